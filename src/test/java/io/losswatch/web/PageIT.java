package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The live page in Debian's headless Chromium, against the real server in-process. Never downloads a driver
 * or a browser: without /usr/bin/chromium and /usr/bin/chromedriver the tests are skipped (visibly), or fail
 * when {@code LOSSWATCH_REQUIRE_BROWSER=1} (as in CI).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PageIT {
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** Slow enough to watch, long enough never to end during the test. */
  private static final String CREEPING = """
      {"name":"sgd creeping","problem":"quadratic","optimizer":{"type":"sgd","lr":0.001},
       "steps":1000000,"steps_per_second":30}""";
  private static final String ADAM = """
      {"name":"adam rosenbrock","problem":"rosenbrock","optimizer":{"type":"adam","lr":0.01},
       "schedule":{"type":"cosine","T_max":5000},"steps":1000000,"steps_per_second":40}""";
  /** x ← −5x: the loss overflows after about 220 steps; unpaced, it diverges at once. */
  private static final String DIVERGING = """
      {"name":"sgd lr 3 diverges","problem":"quadratic","optimizer":{"type":"sgd","lr":3.0},"steps":1000}""";
  /** Ten steps at once, then finished: a run whose series only a test changes afterwards. */
  private static final String QUICK = """
      {"name":"NAME","problem":"quadratic","optimizer":{"type":"sgd","lr":0.1},"steps":10}""";
  /** The page's charts at the widths the issue names. */
  private static final int WIDE = 1400;
  private static final int NARROW = 1000;

  private TestServer server;
  private ServerConfig config;
  private Chromium browser;
  private WebDriver driver;
  private WebDriverWait wait;
  private String creeping;
  private String adam;
  private String diverging;

  @BeforeAll
  void start() throws Exception {
    Chromium.require();
    Files.createDirectories(SCREENSHOTS);
    config = ServerConfig.defaults().forTest(0);
    server = new TestServer(config);
    creeping = server.create(CREEPING);
    adam = server.create(ADAM);
    diverging = server.create(DIVERGING);
    browser = Chromium.start(WIDE, 1000);
    driver = browser.driver;
    wait = new WebDriverWait(driver, WAIT, Duration.ofMillis(50));
    driver.get(base());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (browser != null) browser.close();
    } finally {
      if (server != null) server.close();
    }
  }

  /** A script error on the page fails the test that caused it (failed requests are the server's answers). */
  @AfterEach
  void noScriptErrors() {
    List<String> errors = browser.scriptErrors();
    assertTrue(errors.isEmpty(), "script errors on the page: " + errors);
  }

  @Test
  @Order(1)
  void pageLoadsAndChartsDrawTheRuns() throws Exception {
    wait.until(d -> d.findElements(By.cssSelector(".chart canvas")).size() >= 3);
    for (String id : List.of(creeping, adam)) {
      long first = waitForStepAbove(id, 0);
      waitForStepAbove(id, first);   // advancing, live
      wait.until(d -> longJs("return losswatch.series[arguments[0]].loss.length", id) >= 10);
    }
    wait.until(d -> Long.parseLong(driver.findElement(By.id("chart-loss")).getAttribute("data-points")) >= 20);
    wait.until(d -> Long.parseLong(driver.findElement(By.id("chart-lr")).getAttribute("data-points")) >= 20);
    assertEquals("live", driver.findElement(By.id("conn")).getAttribute("data-state"));
    // each run has a legend entry, and the entry's swatch is its row's colour (which is its line's)
    for (String id : List.of(creeping, adam)) {
      WebElement entry = driver.findElement(By.cssSelector("#legend .entry[data-run='" + id + "']"));
      assertEquals(row(id).findElement(By.cssSelector(".label")).getText(), entry.getText());
      assertEquals(swatch(row(id)), swatch(entry));
    }
    screenshot("01-loaded");
  }

  @Test
  @Order(2)
  void aDivergedRunIsMarked() throws Exception {
    WebElement row = wait.until(d -> row(diverging));
    wait.until(d -> "diverged".equals(row.getAttribute("data-state")));
    WebElement badge = row.findElement(By.cssSelector(".badge"));
    assertEquals("diverged", badge.getText());
    assertTrue(badge.getAttribute("class").contains("diverged"));
    // at step 220 the gradient norm overflows first (the loss is still 1.4e308)
    assertEquals(Boolean.TRUE, js("const s = losswatch.series[arguments[0]];"
        + " return [s.loss, s.grad_norm].some(c => c.some(v => !Number.isFinite(v)))", diverging),
        "the non-finite value is in the series");
    screenshot("02-diverged");
  }

  @Test
  @Order(3)
  void aRunStartedFromTheFormAppearsAndAdvances() throws Exception {
    String name = "from the form " + System.nanoTime();
    WebElement form = driver.findElement(By.id("new-run"));
    type(form, "name", name);
    new Select(form.findElement(By.name("problem"))).selectByVisibleText("logreg");
    new Select(form.findElement(By.name("optimizer"))).selectByVisibleText("adam");
    type(form, "lr", "0.02");
    new Select(form.findElement(By.name("schedule"))).selectByVisibleText("warmup_cosine");
    type(form, "schedule.warmup_steps", "100");
    type(form, "steps", "1000000");
    type(form, "pace", "30");
    form.findElement(By.cssSelector("button[type=submit]")).click();

    WebElement row = wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr")).stream()
        .filter(r -> name.equals(r.findElement(By.cssSelector(".label")).getText())).findFirst().orElse(null));
    String id = row.getAttribute("data-run");
    long first = waitForStepAbove(id, 0);
    waitForStepAbove(id, first + 5);
    assertEquals("", driver.findElement(By.id("form-error")).getText());
    screenshot("03-form-run");
  }

  @Test
  @Order(4)
  void theFormShowsTheServersError() throws Exception {
    WebElement form = driver.findElement(By.id("new-run"));
    new Select(form.findElement(By.name("schedule"))).selectByVisibleText("step");
    type(form, "schedule.step_size", "");   // step_size is required
    form.findElement(By.cssSelector("button[type=submit]")).click();
    WebElement error = driver.findElement(By.id("form-error"));
    wait.until(d -> error.getText().contains("step_size"));
  }

  @Test
  @Order(5)
  void anLrChangeMadeOnThePageShowsInTheLrChart() throws Exception {
    WebElement row = wait.until(d -> row(creeping));
    type(row, By.cssSelector(".lr-input"), "0.0042");
    press(row.findElement(By.cssSelector("button[data-act=lr]")));
    wait.until(d -> Math.abs(doubleJs("const s = losswatch.series[arguments[0]]; return s.lr[s.lr.length - 1]",
        creeping) - 0.0042) < 1e-12);
    wait.until(d -> "0.0042".equals(row.findElement(By.cssSelector(".lr")).getText()));
    screenshot("04-lr-change");
  }

  @Test
  @Order(6)
  void theLagReadoutShowsANumber() throws Exception {
    WebElement lag = driver.findElement(By.id("lag"));
    wait.until(d -> lag.getText().matches("lag: \\d+ ms"));
    assertTrue(js("return losswatch.lag") instanceof Number, "window.losswatch.lag is a number");
  }

  /**
   * A row's controls stand still while its numbers and its advice change every frame: a pointer aimed at "set lr" a
   * frame ago still lands on it (two CI runs missed "set lr" and "what if ×10" when the columns moved).
   */
  @Test
  @Order(7)
  void aRowsControlsStandStillWhileItsNumbersChange() throws Exception {
    Set<String> numbers = new HashSet<>();
    Set<String> places = new HashSet<>();
    Set<String> cells = new HashSet<>();   // each cell's width, to name the one that moved them
    wait.until(d -> {
      String[] seen = ((String) js("""
          const tr = document.querySelector(`#runs tbody tr[data-run='${arguments[0]}']`);
          const x = s => Math.round(tr.querySelector(s).getBoundingClientRect().left);
          return [tr.querySelector('.step').textContent, tr.querySelector('.loss').textContent,
                  x('button[data-act=lr]'), x('button[data-factor="10"]'), x('button[data-act=delete]'),
                  [...document.querySelectorAll('#runs thead th')].map(th => th.textContent.trim() + ':'
                      + Math.round(th.getBoundingClientRect().width)).join(',')].join(' ')""",
          adam)).split(" ");
      numbers.add(seen[0] + " " + seen[1]);
      places.add(seen[2] + " " + seen[3] + " " + seen[4]);
      cells.add(seen[5]);
      return numbers.size() >= 20;
    });
    assertEquals(1, places.size(), "the controls' x over 20 frames: " + places + "; the columns: " + cells
        + "; the numbers: " + numbers);
  }

  /**
   * "what if ÷10" on a paused run starts a branch from its state: its row under its parent's, saying whose branch
   * it is, its line dashed in a shade of its parent's hue, its lr a tenth. A branch the server refuses is named.
   */
  @Test
  @Order(19)
  void whatIfStartsABranchShownAndDrawnWithItsParent() throws Exception {
    String parent = server.create("""
        {"name":"to branch","problem":"quadratic","optimizer":{"type":"sgd","lr":0.01},
         "steps":1000000,"steps_per_second":50}""");
    String child = null;
    try {
      waitForStepAbove(parent, 20);
      WebElement pause = row(parent).findElement(By.cssSelector("button[data-act=pause]"));
      wait.until(d -> pause.isDisplayed() && pause.isEnabled());
      press(pause);
      wait.until(d -> "paused".equals(row(parent).getAttribute("data-state")));
      WebElement down = row(parent).findElement(By.cssSelector("button[data-act=branch][data-factor='0.1']"));
      wait.until(d -> down.isDisplayed() && down.isEnabled());
      assertEquals("what if ÷10", down.getText());
      press(down);

      WebElement branch = wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr[data-parent='" + parent + "']"))
          .stream().findFirst().orElse(null));
      String id = child = branch.getAttribute("data-run");
      Map<String, Object> summary = server.get("/api/runs/" + id).json();
      long at = (long) TestServer.num(summary.get("branched_at"));
      assertEquals(parent, summary.get("parent"));
      WebElement feedback = driver.findElement(By.id("feedback"));
      wait.until(d -> feedback.getText().equals("to branch: what if ÷10 → started “" + summary.get("name") + "”"));
      WebElement lineage = branch.findElement(By.cssSelector(".lineage"));
      wait.until(d -> lineage.getText().equals("↳ branch of to branch at step " + at));
      assertEquals(id, js("return document.querySelector(`#runs tbody tr[data-run='${arguments[0]}']`).nextElementSibling.dataset.run",
          parent), "the branch's row is under its parent's");
      assertEquals(id, js("return document.querySelector(`#legend .entry[data-run='${arguments[0]}']`).nextElementSibling.dataset.run",
          parent), "and so is its legend entry");

      // drawn from the step after the one it branched at, with a tenth of the lr, dashed
      wait.until(d -> drawn().contains(id) && Boolean.TRUE.equals(js(
          "const s = losswatch.series[arguments[0]]; return s.step.length >= 3 && s.step[0] > arguments[1]", id, at)));
      assertEquals(Boolean.TRUE, js("return losswatch.series[arguments[0]].lr.every(v => Math.abs(v - 0.001) < 1e-12)", id),
          "lr 0.01 ÷ 10");
      wait.until(d -> longJs("const u = losswatch.charts.loss, i = losswatch.drawn.indexOf(arguments[0]) + 1;"
          + " return i > 0 && u.series[i].dash ? u.series[i].dash.length : 0", id) > 0);
      assertEquals(0L, longJs("const u = losswatch.charts.loss, i = losswatch.drawn.indexOf(arguments[0]) + 1;"
          + " return u.series[i].dash ? u.series[i].dash.length : 0", parent), "the parent's line is solid");
      // the same hue (OKLab's a-b angle), another lightness
      double[] p = oklab(swatch(row(parent)));
      double[] c = oklab(swatch(branch));
      double dh = Math.abs(Math.toDegrees(Math.atan2(p[2], p[1]) - Math.atan2(c[2], c[1])));
      assertTrue(Math.min(dh, 360 - dh) < 12, "hue " + dh + "° apart");
      assertTrue(Math.abs(p[0] - c[0]) > 0.05, "lightness " + p[0] + " vs " + c[0]);
      wait.until(d -> longJs("return losswatch.series[arguments[0]].step.length", id) >= 20);
      js("window.scrollTo(0, 0)");
      screenshot("19-branch-chart");
      js("arguments[0].scrollIntoView({ block: 'center' })", branch);
      screenshot("19-branch-row");

      // a branch the server refuses (this run is not on the server): the click says why
      js("""
          losswatch.receive({ type: 'run', run: { id: 'ghost-run', name: 'ghost', source: 'builtin', state: 'running',
            spec: {}, cycle: 0, step: 5, loss: 1, lr: 0.1, lr_changes: [], parent: null, branched_at: null, rewinds: [] } })""");
      WebElement up = wait.until(d -> row("ghost-run")).findElement(By.cssSelector("button[data-act=branch][data-factor='10']"));
      wait.until(d -> up.isDisplayed());
      press(up);
      wait.until(d -> feedback.getText().startsWith("ghost: what if ×10 failed: ")
          && feedback.getAttribute("class").contains("error"));
      js("losswatch.receive({ type: 'run', run: { id: 'ghost-run', state: 'deleted' } })");
      wait.until(d -> row("ghost-run") == null);
    } finally {
      if (child != null) server.request("DELETE", "/api/runs/" + child, null);
      server.request("DELETE", "/api/runs/" + parent, null);
    }
  }

  /**
   * A guarded run's rewind: a marker on the loss chart at the step it went back to, saying why and with what lr,
   * the count in its row; its series is the run as it now stands (what the rewind undid is gone from it).
   */
  @Test
  @Order(19)
  @SuppressWarnings("unchecked")
  void aGuardsRewindIsMarkedOnTheLossChartAndCountedInItsRow() throws Exception {
    String id = server.create("""
        {"name":"guarded","problem":"quadratic","optimizer":{"type":"sgd","lr":1.1},"steps":400,
         "steps_per_second":100,"guard":{}}""");
    try {
      wait.until(d -> row(id) != null && "finished".equals(row(id).getAttribute("data-state")));
      List<Map<String, Object>> rewinds = (List<Map<String, Object>>) server.get("/api/runs/" + id).json().get("rewinds");
      assertFalse(rewinds.isEmpty(), "lr 1.1 on x² blows up");
      WebElement count = row(id).findElement(By.cssSelector(".rewinds"));
      wait.until(d -> count.isDisplayed() && ("↺ " + rewinds.size()).equals(count.getText()));
      List<WebElement> marks = wait.until(d -> {
        List<WebElement> m = d.findElements(By.cssSelector("#chart-loss .rewind-mark[data-run='" + id + "']"));
        return m.size() == rewinds.size() ? m : null;
      });
      Map<String, Object> first = rewinds.get(0);
      long at = (long) TestServer.num(first.get("at"));
      long to = (long) TestServer.num(first.get("to"));
      String title = marks.get(0).getAttribute("title");
      assertTrue(title.startsWith("guarded: rewound at step " + at + " (") && title.contains(") to step " + to + ", lr 1.1 → "),
          title);
      assertEquals(String.valueOf(to), marks.get(0).getAttribute("data-to"));
      assertTrue(marks.get(0).isDisplayed(), "on the chart");
      // after the last step it went back to, every point has the lr the last rewind set: none undone is left
      Map<String, Object> last = rewinds.get(rewinds.size() - 1);
      wait.until(d -> longJs("const s = losswatch.series[arguments[0]]; return s.step.length ? s.step[s.step.length - 1] : 0", id)
          == 400);
      assertEquals(Boolean.TRUE, js("const [id, to, lr] = arguments, s = losswatch.series[id];"
          + " return s.step.every((x, i) => x <= to || Math.abs(s.lr[i] - lr) <= 1e-12 * lr)"
          + " && s.step.every((x, i) => i === 0 || x > s.step[i - 1])",
          id, TestServer.num(last.get("to")), TestServer.num(last.get("lr_after"))));
      screenshot("19-rewind");
    } finally {
      server.request("DELETE", "/api/runs/" + id, null);
    }
  }

  /**
   * A range test started over REST: its curve (loss and smoothed loss against the lr) grows as it runs, and once it
   * ended shows the three lrs it suggests; "start a run with this lr" fills the form with its base spec and that lr.
   */
  @Test
  @Order(19)
  @SuppressWarnings("unchecked")
  void aRangeTestShowsItsCurveAndItsSuggestionsStartARun() throws Exception {
    // x² under SGD converges for lr < 1 and blows up past it: the test stops early, at about step 150 of 200 (8 s at
    // 20 steps/s: a page on a busy machine still sees it running)
    CompletableFuture<TestServer.Response> answer = CompletableFuture.supplyAsync(() -> {
      try {
        return server.post("/api/lr-range", """
            {"base":{"problem":"quadratic","optimizer":{"type":"sgd"},"steps_per_second":20},
             "start_lr":1e-5,"end_lr":100,"num_steps":200}""");
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    List<String> made = new ArrayList<>();
    try {
      WebElement panel = driver.findElement(By.id("range-panel"));
      WebElement chart = driver.findElement(By.id("chart-range"));
      // while it runs: part of the curve, fetched again as its steps come
      wait.until(d -> panel.isDisplayed() && "running".equals(panel.getAttribute("data-state"))
          && Long.parseLong(chart.getAttribute("data-points")) > 0);
      String id = panel.getAttribute("data-run");
      made.add(id);
      long partial = Long.parseLong(chart.getAttribute("data-points"));
      assertEquals("range test", row(id).findElement(By.cssSelector(".study-tag")).getText());

      TestServer.Response r = answer.get(30, TimeUnit.SECONDS);
      assertEquals(200, r.status(), r.body());
      Map<String, Object> a = r.json();
      assertEquals(id, a.get("run"));
      assertEquals(Boolean.TRUE, a.get("stopped_early"), "x² blows up long before lr 100");
      int steps = ((List<?>) a.get("lr")).size();
      assertTrue(steps > partial, steps + " steps in the end, " + partial + " while it ran");
      wait.until(d -> "finished".equals(panel.getAttribute("data-state"))
          && Long.parseLong(chart.getAttribute("data-points")) == steps);
      assertTrue(panel.findElement(By.cssSelector(".status")).getText().contains("stopped early"));

      // the three suggestions marked on the chart at the lrs the server gave, each with its button
      Map<String, Object> sugg = (Map<String, Object>) a.get("suggestions");
      List<WebElement> marks = wait.until(d -> {
        List<WebElement> m = chart.findElements(By.cssSelector(".suggest-mark"));
        return m.size() == 3 ? m : null;
      });
      Set<String> seen = new HashSet<>();
      for (WebElement m : marks) {
        String key = m.getAttribute("data-suggestion");
        seen.add(key);
        assertEquals(TestServer.num(sugg.get(key)), Double.parseDouble(m.getAttribute("data-lr")), key);
        assertEquals(key, m.getText());
        assertTrue(m.isDisplayed(), key + " on the chart");
      }
      assertEquals(Set.of("steepest", "valley", "minimum/10"), seen);
      double valley = TestServer.num(sugg.get("valley"));
      assertEquals(valley, doubleJs("return losswatch.studies.range.suggestions.valley"));
      js("arguments[0].scrollIntoView({ block: 'center' })", panel);
      screenshot("19-range-test");

      panel.findElement(By.cssSelector(".suggestion[data-suggestion=valley] button")).click();
      WebElement form = driver.findElement(By.id("new-run"));
      assertEquals(valley, Double.parseDouble(form.findElement(By.name("lr")).getAttribute("value")));
      assertEquals("1000", form.findElement(By.name("steps")).getAttribute("value"));
      assertEquals("constant", new Select(form.findElement(By.name("schedule"))).getFirstSelectedOption().getText());
      assertEquals("sgd", new Select(form.findElement(By.name("optimizer"))).getFirstSelectedOption().getText());
      assertEquals("quadratic", new Select(form.findElement(By.name("problem"))).getFirstSelectedOption().getText());
      String name = form.findElement(By.name("name")).getAttribute("value");
      assertTrue(name.startsWith("quadratic sgd (valley)"), name);
      assertTrue(driver.findElement(By.id("again-note")).isDisplayed());
      screenshot("19-range-test-form");

      // started: the base spec, the lr ramp and its stop gone
      form.findElement(By.cssSelector("button[type=submit]")).click();
      WebElement started = wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr")).stream()
          .filter(t -> name.equals(t.findElement(By.cssSelector(".label")).getText())).findFirst().orElse(null));
      made.add(started.getAttribute("data-run"));
      Map<String, Object> spec = (Map<String, Object>) server.get("/api/runs/" + started.getAttribute("data-run")).json().get("spec");
      assertEquals(valley, TestServer.num(((Map<?, ?>) spec.get("optimizer")).get("lr")), spec.toString());
      assertEquals(1000, ((Number) spec.get("steps")).intValue());
      assertTrue(spec.get("schedule") == null && spec.get("stop_on_divergence") == null, spec.toString());
      driver.findElement(By.cssSelector("#again-note .clear")).click();
    } finally {
      try {
        answer.get(30, TimeUnit.SECONDS);   // it ended before its run is deleted
      } catch (Exception e) {
        // the test says what went wrong
      }
      for (String id : made) server.request("DELETE", "/api/runs/" + id, null);
    }
  }

  /**
   * A sweep started over REST: its U-curve has one point per run, each its loss now against its lr, moving as the
   * runs go; the run that diverges is a × (at the top: its loss is not finite), the one the early stop ends hollow.
   */
  @Test
  @Order(19)
  @SuppressWarnings("unchecked")
  void aSweepShowsItsUCurveLiveWithTheDivergedRunMarked() throws Exception {
    // x ← (1 − 2·lr)·x: lr 1.5 doubles x each step (its loss overflows near step 510); at step 1500 (15 s: a page on a
    // busy machine takes seconds to show the sweep) the early stop ends the worse of the two left (lr 0.01)
    TestServer.Response r = server.post("/api/sweeps", """
        {"base":{"name":"u-curve","problem":"quadratic","optimizer":{"type":"sgd"},"steps":100000,"steps_per_second":100},
         "lr":[0.01,0.1,1.5],"early_stop":{"at":[1500],"keep":0.5}}""");
    assertEquals(201, r.status(), r.body());
    String sweep = (String) r.json().get("sweep");
    List<String> ids = new ArrayList<>();
    for (Object o : (List<Object>) r.json().get("runs")) ids.add((String) ((Map<?, ?>) o).get("id"));
    try {
      WebElement panel = driver.findElement(By.id("sweep-panel"));
      wait.until(d -> panel.isDisplayed() && sweep.equals(panel.getAttribute("data-sweep"))
          && longJs("return losswatch.studies.sweep ? losswatch.studies.sweep.points.length : 0") == 3);
      for (String id : ids) {
        wait.until(d -> row(id) != null && ("sweep " + sweep).equals(row(id).findElement(By.cssSelector(".study-tag")).getText()));
      }
      String point = "const p = losswatch.studies.sweep.points.find(p => p.lr === arguments[0]);";
      // live: the lr 0.01 point goes down as its run goes on (unless a very busy machine let it reach the early stop)
      double step = doubleJs(point + " return p.step", 0.01);
      double loss = doubleJs(point + " return p.loss", 0.01);
      wait.until(d -> doubleJs(point + " return p.step", 0.01) > step + 20 && doubleJs(point + " return p.loss", 0.01) < loss
          || step >= 1500);
      // a dot while it runs (read at once with its state: a loaded machine may reach the early stop meanwhile)
      List<?> going = (List<?>) js(point + " return [p.state, p.mark]", 0.01);
      assertEquals("running".equals(going.get(0)) ? "dot" : "hollow", going.get(1), "lr 0.01 " + going);
      // lr 1.5 diverges: a ×, at the top edge when its loss is not finite
      wait.until(d -> "x".equals(js(point + " return p.mark", 1.5)));
      assertEquals(Boolean.TRUE, js(point + " return Number.isFinite(p.loss) || (p.edge === 'top' && p.y < 12)", 1.5));
      // at step 600 the early stop ends lr 0.01: hollow; lr 0.1 goes on
      wait.until(d -> "hollow".equals(js(point + " return p.mark", 0.01)));
      assertEquals("dot", js(point + " return p.mark", 0.1));
      assertEquals(3L, Long.parseLong(driver.findElement(By.id("chart-sweep")).getAttribute("data-points")));
      List<Number> xs = (List<Number>) js("return losswatch.studies.sweep.points.map(p => p.x)");
      assertTrue(xs.get(0).doubleValue() < xs.get(1).doubleValue() && xs.get(1).doubleValue() < xs.get(2).doubleValue(),
          "the lrs left to right: " + xs);
      js("arguments[0].scrollIntoView({ block: 'center' })", panel);
      screenshot("19-sweep");

      // the sweep's runs alone on the charts, and all again
      WebElement only = panel.findElement(By.cssSelector(".only"));
      only.click();
      wait.until(d -> new HashSet<>(drawn()).equals(new HashSet<>(ids)));
      js("window.scrollTo(0, 0)");
      screenshot("19-sweep-only");
      only.click();
      wait.until(d -> drawn().containsAll(ids) && drawn().contains(creeping));
    } finally {
      for (String id : ids) server.request("DELETE", "/api/runs/" + id, null);
    }
  }

  /** The server restarts on the same port: the page reconnects by itself and reloads what the new one has. */
  @Test
  @Order(20)
  void afterAServerRestartThePageReconnectsAndReloads() throws Exception {
    int port = server.port();
    server.close();
    server = null;
    wait.until(d -> !"live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    config = ServerConfig.defaults().forTest(port);
    server = new TestServer(config);
    String fresh = server.create(CREEPING.replace("sgd creeping", "after the restart"));
    wait.until(d -> row(fresh) != null && "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    waitForStepAbove(fresh, 0);
    wait.until(d -> row(creeping) == null && row(adam) == null);
    screenshot("05-reconnected");
  }

  /** The legend and the table's checkboxes are two views of one choice: what is drawn. */
  @Test
  @Order(8)
  void theLegendAndTheTableShowAndHideTheSameLine() throws Exception {
    WebElement entry = driver.findElement(By.cssSelector("#legend .entry[data-run='" + adam + "']"));
    WebElement box = row(adam).findElement(By.cssSelector("input.show"));
    entry.click();
    wait.until(d -> !drawn().contains(adam));
    assertFalse(box.isSelected(), "the row's checkbox follows the legend");
    assertEquals("false", entry.getAttribute("aria-pressed"));
    screenshot("08-legend-hidden");
    box.click();
    wait.until(d -> drawn().contains(adam));
    assertEquals("true", entry.getAttribute("aria-pressed"), "the legend follows the row's checkbox");
  }

  /** Pointing at a line names the run and reads out its step, loss and lr; the nearest line wins. */
  @Test
  @Order(9)
  void hoveringAChartReadsOutTheNearestRun() throws Exception {
    // two still runs alone on the chart, so nothing moves under the mouse
    for (String id : List.of(creeping, adam)) server.post("/api/runs/" + id + "/pause", null);
    wait.until(d -> "paused".equals(row(creeping).getAttribute("data-state"))
        && "paused".equals(row(adam).getAttribute("data-state")));
    driver.findElement(By.id("select-all")).click();
    for (String id : List.of(creeping, adam)) {
      driver.findElement(By.cssSelector("#legend .entry[data-run='" + id + "']")).click();
    }
    // still means: both paused, every step up to the pause on the page, and drawn as the page holds them
    wait.until(d -> Boolean.TRUE.equals(js("""
        const u = losswatch.charts.loss;
        return losswatch.drawn.length === 2 && [...arguments].every(id => {
          const s = losswatch.series[id], r = losswatch.runs[id], k = losswatch.drawn.indexOf(id);
          return r.state === 'paused' && s.step.length > 20 && s.step[s.step.length - 1] === r.step
            && k >= 0 && u.data[k + 1][0].length === s.step.length && u.data[k + 1][0][s.step.length - 1] === r.step;
        })""", creeping, adam)));
    js("window.scrollTo(0, 0)");   // the chart and the heading in view: the mouse goes to viewport pixels
    WebElement readout = driver.findElement(By.id("readout"));
    try {
      for (String id : List.of(adam, creeping)) {
        // a point this run drew, the mouse on it (whole pixels of the viewport, as a mouse is), and no point of the
        // other run within 25 px of the mouse: whichever way nearness is measured, this run is the nearest
        Object point = js("""
            const [id, other] = arguments, u = losswatch.charts.loss, rect = u.over.getBoundingClientRect();
            const drawnPoints = run => {
              const [xs, ys] = u.data[losswatch.drawn.indexOf(run) + 1];
              return xs.map((x, i) => [u.valToPos(x, 'x'), ys[i] === null || ys[i] === undefined ? NaN : u.valToPos(ys[i], 'y')])
                .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
            };
            const mine = drawnPoints(id), theirs = drawnPoints(other);
            const nearest = (pts, mx, my) => pts.reduce((b, [x, y]) => Math.min(b, Math.hypot(x - mx, y - my)), Infinity);
            const stride = Math.max(1, Math.floor(mine.length / 200));
            for (let i = mine.length - 1; i >= 0; i -= stride) {
              const [px, py] = mine[i];
              const cx = Math.round(rect.left + px), cy = Math.round(rect.top + py), mx = cx - rect.left, my = cy - rect.top;
              if (mx < 5 || my < 5 || mx > rect.width - 5 || my > rect.height - 5) continue;
              if (nearest(mine, mx, my) <= 1.5 && nearest(theirs, mx, my) > 25) return [cx, cy];
            }
            const some = pts => pts.filter((p, i) => i % stride === 0).map(p => p.map(Math.round));
            return JSON.stringify({ mine: some(mine), theirs: some(theirs) })""",
            id, id.equals(adam) ? creeping : adam);
        assertTrue(point instanceof List, "a point of " + id + " 25 px from the other line's points; drawn: " + point);
        List<?> at = (List<?>) point;
        new Actions(driver).moveToElement(driver.findElement(By.tagName("h1"))).perform();   // the last readout gone
        wait.until(d -> !readout.isDisplayed());
        new Actions(driver).moveToLocation(((Number) at.get(0)).intValue(), ((Number) at.get(1)).intValue()).perform();
        wait.until(d -> readout.isDisplayed());
        assertEquals(id, readout.getAttribute("data-run"), "the run under the mouse: " + readout.getText());
        String name = row(id).findElement(By.cssSelector(".label")).getText();
        String text = readout.getText();
        long step = Long.parseLong(readout.getAttribute("data-step"));
        assertTrue(text.startsWith(name), text);
        assertTrue(text.contains("step " + step), text);
        assertTrue(text.matches("(?s).*loss \\S+ · lr \\S+ · grad \\S+.*"), text);
        assertEquals(Boolean.TRUE, js("return losswatch.series[arguments[0]].step.includes(arguments[1])", id, step),
            "the step read out is one of the run's");
        if (id.equals(creeping)) screenshot("09-hover");
      }
      new Actions(driver).moveToElement(driver.findElement(By.tagName("h1"))).perform();
      wait.until(d -> !readout.isDisplayed());
    } finally {
      WebElement all = driver.findElement(By.id("select-all"));
      if (!all.isSelected()) all.click();
      for (String id : List.of(creeping, adam)) server.post("/api/runs/" + id + "/resume", null);
    }
  }

  /** Fourteen runs, fourteen colours, none near another (a 12-colour palette gave run 13 run 1's). */
  @Test
  @Order(10)
  void fourteenRunsGetFourteenDistinctColours() throws Exception {
    int have = driver.findElements(By.cssSelector("#runs tbody tr")).size();
    for (int i = have; i < 14; i++) {
      server.create(QUICK.replace("NAME", i == 13
          ? "colour " + i + " with a name long enough to be cut with an ellipsis rather than push the controls away"
          : "colour " + i));
    }
    wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr")).size() >= 14);
    List<WebElement> rows = driver.findElements(By.cssSelector("#runs tbody tr"));
    Set<String> colours = new HashSet<>();
    List<double[]> labs = new ArrayList<>();
    for (WebElement r : rows) {
      String c = swatch(r);
      WebElement entry = driver.findElement(By.cssSelector("#legend .entry[data-run='" + r.getAttribute("data-run") + "']"));
      assertEquals(c, swatch(entry), "the legend entry has its row's colour");
      colours.add(c);
      labs.add(oklab(c));
    }
    assertEquals(rows.size(), colours.size(), "every run its own colour: " + colours);
    double min = Double.MAX_VALUE;
    for (int i = 0; i < labs.size(); i++) {
      for (int j = 0; j < i; j++) min = Math.min(min, dist(labs.get(i), labs.get(j)));
    }
    // OKLab: about 0.02 is barely told apart; the old palette's nearest pair was 0.046, its 13th a repeat (0)
    assertTrue(min >= 0.08, "the nearest two of " + rows.size() + " colours are " + min + " apart in OKLab");
  }

  /** At 1,400 and 1,000 px wide the whole table shows: every delete button on screen, nothing to scroll. */
  @Test
  @Order(11)
  void theRunsTableFitsAt1400And1000Pixels() throws Exception {
    try {
      for (int width : List.of(WIDE, NARROW)) {
        viewport(width, 1700);
        String why = wait.until(d -> {
          String w = (String) js("""
              const panel = document.querySelector('section.runs'), p = panel.getBoundingClientRect(), out = [];
              if (panel.scrollWidth > panel.clientWidth + 1) out.push(`table scrolls: ${panel.scrollWidth} > ${panel.clientWidth}`);
              if (document.documentElement.scrollWidth > innerWidth) out.push('page scrolls sideways');
              for (const b of document.querySelectorAll('#runs tbody button[data-act=delete]')) {
                const r = b.getBoundingClientRect();
                if (r.width === 0 || r.right > p.right || r.right > innerWidth) out.push(`delete of ${b.closest('tr').dataset.run} at ${r.right}`);
              }
              return out.length ? out.join('; ') : null""");
          return w == null ? "" : null;
        });
        assertEquals("", why);
        screenshot("11-table-" + width);
      }
    } finally {
      viewport(WIDE, 1000);
      for (WebElement r : driver.findElements(By.cssSelector("#runs tbody tr"))) {
        if (r.findElement(By.cssSelector(".label")).getText().startsWith("colour ")) {
          server.request("DELETE", "/api/runs/" + r.getAttribute("data-run"), null);
        }
      }
    }
  }

  /** A number the form cannot read is named, field and value, and nothing is sent. */
  @Test
  @Order(12)
  void aNumberTheFormCannotReadIsNamedBeforeSending() throws Exception {
    WebElement form = driver.findElement(By.id("new-run"));
    new Select(form.findElement(By.name("schedule"))).selectByVisibleText("constant");
    WebElement error = driver.findElement(By.id("form-error"));
    type(form, "lr", "abc");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    wait.until(d -> error.getText().equals("lr: \"abc\" is not a number"));
    assertEquals("true", form.findElement(By.name("lr")).getAttribute("aria-invalid"));
    screenshot("12-lr-abc");
    type(form, "lr", "0.01");
    type(form, "steps", "12x");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    wait.until(d -> error.getText().equals("steps: \"12x\" is not a number"));
    type(form, "steps", "2000");
  }

  @Test
  @Order(13)
  void switchingTheScheduleBackToConstantHidesItsParameter() throws Exception {
    WebElement form = driver.findElement(By.id("new-run"));
    Select schedule = new Select(form.findElement(By.name("schedule")));
    schedule.selectByVisibleText("cosine");
    WebElement param = wait.until(d -> form.findElement(By.name("schedule.T_max")));
    assertTrue(param.isDisplayed());
    assertEquals("T_max", form.findElement(By.cssSelector(".opts[data-section=schedule] label span")).getText());
    schedule.selectByVisibleText("constant");
    wait.until(d -> form.findElements(By.cssSelector(".opts[data-section=schedule] input")).isEmpty());
    assertFalse(form.findElement(By.cssSelector(".opts[data-section=schedule]")).isDisplayed());
  }

  /** The form's option fields are the schema's: a type's options, their defaults as placeholders, required ones marked. */
  @Test
  @Order(13)
  void theFormsFieldsComeFromTheSchema() throws Exception {
    Map<String, Object> schema = server.get("/api/schema").json();
    WebElement form = driver.findElement(By.id("new-run"));
    wait.until(d -> js("return Boolean(window.losswatch.schema)").equals(Boolean.TRUE));
    List<String> types = new Select(form.findElement(By.name("schedule"))).getOptions().stream().map(WebElement::getText).toList();
    assertEquals(List.copyOf(((Map<?, ?>) schema.get("schedules")).keySet()), types, "the schedules offered are the schema's");
    new Select(form.findElement(By.name("optimizer"))).selectByVisibleText("adamw");
    List<String> shown = new ArrayList<>();
    for (Object o : (List<?>) ((Map<?, ?>) schema.get("optimizers")).get("adamw")) {
      Map<?, ?> opt = (Map<?, ?>) o;
      if (opt.get("name").equals("lr")) {
        assertEquals("0.001", form.findElement(By.name("lr")).getAttribute("placeholder"));
        continue;
      }
      WebElement input = form.findElement(By.name("optimizer." + opt.get("name")));
      assertTrue(input.isDisplayed(), "optimizer." + opt.get("name"));
      shown.add((String) opt.get("name"));
      if (opt.get("kind").equals("boolean")) {
        assertEquals(opt.get("default") + " (default)", new Select(input).getFirstSelectedOption().getText());
      }
    }
    assertEquals(List.of("betas", "eps", "weight_decay", "amsgrad"), shown);
    assertEquals("0.9, 0.999", form.findElement(By.name("optimizer.betas")).getAttribute("placeholder"));
    assertEquals("0.01", form.findElement(By.name("optimizer.weight_decay")).getAttribute("placeholder"), "adamw's decoupled default");
    new Select(form.findElement(By.name("schedule"))).selectByVisibleText("onecycle");
    assertEquals("required", form.findElement(By.name("schedule.max_lr")).getAttribute("placeholder"));
    assertTrue(form.findElement(By.name("schedule.max_lr")).findElement(By.xpath("..")).getAttribute("class").contains("required"));
    assertEquals("the run's steps", form.findElement(By.name("schedule.total_steps")).getAttribute("placeholder"));
    screenshot("13-schema-fields");
    // a value the server refuses is marked on its own field
    type(form, "schedule.max_lr", "0.1");
    type(form, "schedule.pct_start", "2");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    WebElement error = driver.findElement(By.id("form-error"));
    wait.until(d -> error.getText().startsWith("schedule.pct_start: must be in [0, 1]"));
    assertEquals("true", form.findElement(By.name("schedule.pct_start")).getAttribute("aria-invalid"));
    new Select(form.findElement(By.name("schedule"))).selectByVisibleText("constant");
    new Select(form.findElement(By.name("optimizer"))).selectByVisibleText("adam");
  }

  /** The sweep form sends the run form's spec with the lr grid its schema-built fields say. */
  @Test
  @Order(13)
  void theSweepFormStartsASweepOfTheFormsSpec() throws Exception {
    WebElement form = driver.findElement(By.id("new-run"));
    String name = "swept " + System.nanoTime();
    type(form, "name", name);
    new Select(form.findElement(By.name("problem"))).selectByVisibleText("quadratic");
    new Select(form.findElement(By.name("optimizer"))).selectByVisibleText("sgd");
    type(form, "steps", "50");
    driver.findElement(By.cssSelector("#sweep-box summary")).click();
    WebElement sweep = driver.findElement(By.id("sweep"));
    wait.until(d -> !sweep.findElements(By.name("lr.from")).isEmpty());
    type(sweep, "lr.from", "0.01");
    type(sweep, "lr.to", "0.1");
    type(sweep, "lr.factor", "10");
    sweep.findElement(By.cssSelector("button[type=submit]")).click();
    for (String lr : List.of("0.01", "0.1")) {
      wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr .label")).stream()
          .anyMatch(l -> l.getText().equals(name + " lr=" + lr)));
    }
    assertEquals("", sweep.findElement(By.cssSelector(".form-error")).getText());
    type(form, "name", "");
    type(form, "steps", "2000");
    driver.findElement(By.cssSelector("#sweep-box summary")).click();
  }

  /** A diverged run's "run again" fills the form with its spec and the advised lr; one click starts it. */
  @Test
  @Order(14)
  @SuppressWarnings("unchecked")
  void runAgainStartsTheDivergedRunWithTheAdvisedLr() throws Exception {
    double advised = wait.until(d -> {
      try {
        // it ended: no advice to apply, but the lr to start it again with
        Object lr = ((Map<?, ?>) server.get("/api/runs/" + diverging).json().get("diagnosis")).get("retry_lr");
        return lr instanceof Number n ? n.doubleValue() : null;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    WebElement again = row(diverging).findElement(By.cssSelector("button[data-act=again]"));
    assertTrue(again.isDisplayed() && again.getText().startsWith("run again"), again.getText());
    again.click();
    WebElement form = driver.findElement(By.id("new-run"));
    assertEquals(advised, Double.parseDouble(form.findElement(By.name("lr")).getAttribute("value")));
    assertTrue(driver.findElement(By.id("again-note")).isDisplayed());
    String name = form.findElement(By.name("name")).getAttribute("value");
    screenshot("14-run-again");
    form.findElement(By.cssSelector("button[type=submit]")).click();

    WebElement row = wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr")).stream()
        .filter(r -> name.equals(r.findElement(By.cssSelector(".label")).getText())).findFirst().orElse(null));
    Map<String, Object> spec = (Map<String, Object>) server.get("/api/runs/" + row.getAttribute("data-run")).json().get("spec");
    assertEquals(advised, ((Number) ((Map<?, ?>) spec.get("optimizer")).get("lr")).doubleValue(), "the advised lr: " + spec);
    assertEquals("sgd", ((Map<?, ?>) spec.get("optimizer")).get("type"));
    assertEquals("quadratic", spec.get("problem"));
    assertEquals(1000, ((Number) spec.get("steps")).intValue());
    driver.findElement(By.cssSelector("#again-note .clear")).click();
  }

  /** An alert shows the server's message as it is (it names the run), apart from the feedback to your clicks. */
  @Test
  @Order(15)
  void anAlertNamesItsRunOnceAndLeavesYourFeedbackAlone() throws Exception {
    // what each area showed, change by change (a later alert may replace this one before the test looks)
    js("""
        for (const id of ['feedback', 'alert']) {
          const el = document.getElementById(id), seen = window[id + 'Seen'] = [];
          new MutationObserver(() => seen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
        }""");
    WebElement pause = row(creeping).findElement(By.cssSelector("button[data-act=pause]"));
    wait.until(d -> pause.isDisplayed() && pause.isEnabled());
    press(pause);
    WebElement feedback = driver.findElement(By.id("feedback"));
    wait.until(d -> feedback.getText().equals("sgd creeping: paused"));

    String name = "diverges for the alert " + System.nanoTime();
    server.create(DIVERGING.replace("sgd lr 3 diverges", name));
    String text = wait.until(d -> ((List<?>) js("return alertSeen")).stream().map(String::valueOf)
        .filter(t -> t.contains(name)).findFirst().orElse(null));
    assertTrue(text.startsWith(name + ": "), text);
    assertEquals(text.indexOf(name), text.lastIndexOf(name), "the run's name once: " + text);
    screenshot("15-alert-and-feedback");
    @SuppressWarnings("unchecked")
    List<String> seen = (List<String>) js("return feedbackSeen");
    for (String f : seen) assertTrue(f.isEmpty() || f.equals("sgd creeping: paused"), "the feedback became " + f);

    WebElement resume = row(creeping).findElement(By.cssSelector("button[data-act=resume]"));
    wait.until(d -> resume.isDisplayed());
    press(resume);
    wait.until(d -> feedback.getText().equals("sgd creeping: resumed"));
  }

  /** The page thins a long series as the server does: each four points keep their lowest and highest loss. */
  @Test
  @Order(16)
  void thinningKeepsADipAndASpike() throws Exception {
    String id = server.create(QUICK.replace("NAME", "thinned"));
    wait.until(d -> row(id) != null && "finished".equals(row(id).getAttribute("data-state"))
        && "10".equals(row(id).getAttribute("data-step")));
    // 9,000 steps after its own ten, in chunks as an all-mode server sends them: flat, one dip, one spike
    js("""
        const id = arguments[0];
        for (let from = 11; from <= 9010; from += 1000) {
          const m = { type: 'steps', run: id, cycle: 0, step: [], loss: [], lr: [], grad_norm: [], t: [] };
          for (let s = from; s < from + 1000; s++) {
            m.step.push(s);
            m.loss.push(s === 5001 ? 1e-6 : s === 7002 ? 1e6 : 1 + 0.01 * Math.sin(s));
            m.lr.push(0.1); m.grad_norm.push(1); m.t.push(Date.now());
          }
          losswatch.receive(m);
        }""", id);
    long points = longJs("return losswatch.series[arguments[0]].step.length", id);
    assertTrue(points <= 4000 && points >= 2000, points + " points kept");
    assertEquals(1e-6, doubleJs("const s = losswatch.series[arguments[0]]; return s.loss[s.step.indexOf(5001)]", id),
        "the dip survives");
    assertEquals(1e6, doubleJs("const s = losswatch.series[arguments[0]]; return s.loss[s.step.indexOf(7002)]", id),
        "the spike survives");
    assertEquals(9010, longJs("const s = losswatch.series[arguments[0]]; return s.step[s.step.length - 1]", id));
    wait.until(d -> doubleJs("return losswatch.charts.loss.scales.y.min") <= 1e-6);   // and the chart reaches it
    screenshot("16-thinned");
    server.request("DELETE", "/api/runs/" + id, null);
  }

  /**
   * A run converging to exactly 0 passes denormals (5e-324): the log scale stops at 1e-300 and says so (its
   * decade, 1e-324, is 0 in a double: the axis once looped forever on log10(0) and froze the tab).
   */
  @Test
  @Order(17)
  void aLossThatUnderflowsToZeroKeepsTheLogScaleFinite() throws Exception {
    String id = server.create(QUICK.replace("NAME", "underflows"));
    wait.until(d -> row(id) != null && "10".equals(row(id).getAttribute("data-step")));
    js("""
        const steps = [11, 12, 13, 14];
        losswatch.receive({ type: 'steps', run: arguments[0], cycle: 0, step: steps, loss: [1e-200, 1e-310, 5e-324, 0],
          lr: steps.map(() => 0.1), grad_norm: steps.map(() => 1), t: steps.map(() => Date.now()) })""", id);
    WebElement note = driver.findElement(By.cssSelector(".hidden-note[data-chart=loss]"));
    // (the run "run again" started, lr 0.3 on x², reaches 0 the same way: it may add to both counts)
    wait.until(d -> note.getText().matches(".*\\d+ values below 1e-300 run off the chart.*")
        && note.getText().matches(".*\\d+ values ≤ 0 not drawn.*"));
    assertEquals(1e-300, doubleJs("return losswatch.charts.loss.scales.y.min"), 1e-310);
    server.request("DELETE", "/api/runs/" + id, null);
  }

  /**
   * A newer server's live mode sends one frame per tick, {t, runs: [steps entries]}: the page draws each
   * entry as it draws a steps message, and skips runs it does not know.
   */
  @Test
  @Order(18)
  void framesAreDrawnLikeSteps() throws Exception {
    String a = server.create(QUICK.replace("NAME", "frame a"));
    String b = server.create(QUICK.replace("NAME", "frame b"));
    wait.until(d -> row(a) != null && row(b) != null && "10".equals(row(a).getAttribute("data-step"))
        && "10".equals(row(b).getAttribute("data-step")));
    js("""
        const entry = (run, steps) => ({ run, cycle: 0, step: steps, loss: steps.map(s => 1 / s),
          lr: steps.map(() => 0.1), grad_norm: steps.map(() => 1), t: steps.map(() => Date.now()) });
        losswatch.receive({ type: 'frame', t: Date.now(),
          runs: [entry(arguments[0], [11, 12, 13]), entry('no-such-run', [1]), entry(arguments[1], [11])] })""", a, b);
    wait.until(d -> "13".equals(row(a).getAttribute("data-step")) && "11".equals(row(b).getAttribute("data-step")));
    assertEquals(Boolean.TRUE, js("const s = losswatch.series[arguments[0]].step; return [11, 12, 13].every(x => s.includes(x))", a));
    assertTrue(js("return losswatch.clockOffset") instanceof Number, "the frame's send time sets the clock offset");
    for (String id : List.of(a, b)) server.request("DELETE", "/api/runs/" + id, null);
  }

  /** A script's own run shows like a built-in one, gaps and all, and offers nothing to run again once it ended. */
  @Test
  @Order(18)
  void anExternalRunIsDrawnAndHasNothingToRunAgain() throws Exception {
    String id = server.create("{\"source\":\"external\",\"name\":\"my script\",\"optimizer\":{\"type\":\"adamw\"}}");
    StringBuilder steps = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (int s = 1; s <= 50; s++) {
      steps.append(s > 1 ? "," : "").append(s * 10);
      loss.append(s > 1 ? "," : "").append(3.0 / s);
    }
    assertEquals(200, server.post("/api/runs/" + id + "/steps", "{\"step\":[" + steps + "],\"loss\":[" + loss + "]}").status());
    waitForStepAbove(id, 499);
    // one live bucket: its max (step 10) and its min, the last step (500), are drawn
    wait.until(d -> Boolean.TRUE.equals(js("const s = losswatch.series[arguments[0]]; return !!s && s.step.includes(10)"
        + " && s.step.includes(500)", id)));
    assertEquals(200, server.post("/api/runs/" + id + "/finish", "{\"state\":\"finished\"}").status());
    wait.until(d -> "finished".equals(row(id).findElement(By.cssSelector(".badge")).getText()));
    assertTrue(!row(id).findElement(By.cssSelector("[data-act=again]")).isDisplayed(), "nothing to run again");
    server.request("DELETE", "/api/runs/" + id, null);
  }

  @Test
  @Order(19)
  void theFaviconIsServed() throws Exception {
    TestServer.Response ico = server.get("/favicon.ico");
    assertEquals(200, ico.status(), "the browser's default request");
    assertTrue(ico.contentType().startsWith("image/"), ico.contentType());
    String href = driver.findElement(By.cssSelector("link[rel=icon]")).getAttribute("href");
    TestServer.Response svg = server.get(URI.create(href).getPath());
    assertEquals(200, svg.status(), href);
    assertTrue(svg.contentType().startsWith("image/svg+xml"), svg.contentType());
  }

  /**
   * The lag never compares the browser's clock with the server's: with the browser an hour ahead, and after a
   * restart that replays old steps (runs restored from disk), the readout stays under a second.
   */
  @Test
  @Order(21)
  void theLagReadoutIgnoresTheClocksAndTheHistoryAfterARestart() throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> script = ((ChromeDriver) driver).executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
        Map.of("source", "{ const now = Date.now; Date.now = () => now.call(Date) + 3600000; }"));
    try {
      driver.navigate().refresh();
      wait.until(d -> "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
      assertTrue(Math.abs(longJs("return Date.now()") - System.currentTimeMillis() - 3_600_000) < 60_000,
          "the page's clock is an hour ahead");
      js("""
          window.lagsSeen = [];
          const el = document.getElementById('lag');
          new MutationObserver(() => lagsSeen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true })""");
      List<Long> before = waitForLags(0, 5);
      assertTrue(before.stream().allMatch(ms -> ms < 1000), "an hour's skew is not lag: " + before);

      int port = server.port();
      server.close();
      server = null;
      wait.until(d -> !"live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
      int mark = ((Number) js("return lagsSeen.length")).intValue();
      server = new TestServer(ServerConfig.defaults().forTest(port).withDataDir(config.dataDir()));
      String fresh = server.create(CREEPING.replace("sgd creeping", "after the second restart"));
      wait.until(d -> row(fresh) != null && "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
      // the runs from before come back from disk, their history stamped seconds ago
      wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr[data-state=interrupted]")).size() >= 1);
      List<Long> after = waitForLags(mark, 8);
      assertTrue(after.stream().allMatch(ms -> ms < 1000), "after the restart: " + after);
      screenshot("21-lag-after-restart");
    } finally {
      ((ChromeDriver) driver).executeCdpCommand("Page.removeScriptToEvaluateOnNewDocument",
          Map.of("identifier", script.get("identifier")));
      driver.navigate().refresh();
    }
  }

  /**
   * A built-in run the restart cut off (the run started after the first restart) offers "resume", nothing else
   * that needs it going; one click takes it on from its checkpoint.
   */
  @Test
  @Order(22)
  void anInterruptedRunResumesFromItsCheckpoint() throws Exception {
    WebElement row = wait.until(d -> d.findElements(By.cssSelector("#runs tbody tr[data-state=interrupted]")).stream()
        .findFirst().orElse(null));
    String id = row.getAttribute("data-run");
    assertEquals("interrupted", row.findElement(By.cssSelector(".badge")).getText());
    WebElement resume = row.findElement(By.cssSelector("button[data-act=resume]"));
    wait.until(d -> resume.isDisplayed());
    assertFalse(row.findElement(By.cssSelector("button[data-act=pause]")).isDisplayed());
    assertFalse(row.findElement(By.cssSelector("button[data-act=branch]")).isDisplayed(), "no what-if: it is not going");
    long before = Long.parseLong(row.getAttribute("data-step"));
    screenshot("22-interrupted");
    press(resume);
    WebElement feedback = driver.findElement(By.id("feedback"));
    wait.until(d -> feedback.getText().endsWith(": resumed"));
    wait.until(d -> "running".equals(row(id).getAttribute("data-state")));
    waitForStepAbove(id, before);
    assertEquals("running", server.get("/api/runs/" + id).json().get("state"));
  }

  /**
   * A script's 64 metrics, named as people name them (slashes, dots, dashes): every name offered, any one charted on
   * a pick; a 65th is refused by the server, naming it, and the run keeps its 64.
   */
  @Test
  @Order(23)
  void sixtyFourMetricsNamedAsPeopleNameThemAreOfferedAndCharted() throws Exception {
    String id = server.create("{\"source\":\"external\",\"name\":\"sixty-four metrics\"}");
    StringBuilder metrics = new StringBuilder();
    List<String> names = new ArrayList<>();
    for (int k = 0; k < 64; k++) {
      String name = (k % 2 == 0 ? "layers/" : "val.layer-") + k + "/grad.norm";
      names.add(name);
      metrics.append(k > 0 ? "," : "").append('"').append(name).append("\":[").append(k + 1).append(',').append(k + 2).append(']');
    }
    TestServer.Response r = server.post("/api/runs/" + id + "/steps", "{\"step\":[1,2],\"loss\":[1,0.5],\"metrics\":{" + metrics + "}}");
    assertEquals(200, r.status(), r.body());
    TestServer.Response more = server.post("/api/runs/" + id + "/steps", "{\"step\":[3],\"loss\":[0.4],\"metrics\":{\"extra/one\":[1]}}");
    assertEquals(400, more.status(), more.body());
    assertEquals("metrics.extra/one", more.json().get("field"), more.body());
    try {
      wait.until(d -> Boolean.TRUE.equals(js("return !!losswatch.metrics && arguments[0].every(n => losswatch.metrics.names.includes(n))",
          names)));
      String last = names.get(63);
      assertEquals(64, driver.findElements(By.cssSelector("#metric-picker input")).stream()
          .filter(b -> names.contains(b.getAttribute("value"))).count(), "every name offered");
      driver.findElement(By.cssSelector("#metric-picker input[value='" + last + "']")).click();
      WebElement chart = wait.until(d -> d.findElement(By.cssSelector("#metric-charts .chart[data-metric='" + last + "']")));
      wait.until(d -> "2".equals(chart.getAttribute("data-points")));
      assertEquals(last, chart.findElement(By.xpath("ancestor::div[contains(@class,'panel')]//h2")).getText());
    } finally {
      server.request("DELETE", "/api/runs/" + id, null);
    }
  }

  /** Charts with nothing to draw say so. */
  @Test
  @Order(30)
  void emptyChartsSayWhy() throws Exception {
    try (TestServer empty = new TestServer(ServerConfig.defaults().forTest(0))) {
      driver.get("http://127.0.0.1:" + empty.port() + "/");
      waitForPlaceholders("no runs yet");
      screenshot("30-empty");
      // a first step in 100 s
      empty.create("{\"name\":\"waiting\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
          + "\"steps\":10,\"steps_per_second\":0.01}");
      waitForPlaceholders("no steps yet");
      driver.findElement(By.id("select-all")).click();
      waitForPlaceholders("no run drawn");
      driver.findElement(By.id("select-all")).click();
      waitForPlaceholders("no steps yet");
    }
  }

  /**
   * Issue 23: a run's stability draws on its own chart (the limit at 1): each live bucket keeps its last measurement,
   * so at least one point per bucket that had one.
   */
  @Test
  @Order(30)
  void theStabilityChartDrawsEachMeasurement() throws Exception {
    try (TestServer own = new TestServer(ServerConfig.defaults().forTest(0))) {
      driver.get("http://127.0.0.1:" + own.port() + "/");
      String id = own.create("{\"name\":\"x2 at 0.9\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\","
          + "\"lr\":0.9},\"steps\":40,\"curvature_every\":4,\"steps_per_second\":40}");
      wait.until(d -> Long.parseLong(driver.findElement(By.id("chart-stability")).getAttribute("data-points")) >= 3
          && longJs("const s = losswatch.series[arguments[0]].step; return s[s.length - 1]", id) == 40);
      assertEquals(0.9, ((Number) js("const s = losswatch.series[arguments[0]].stability; return s[s.length - 1]", id))
          .doubleValue(), 1e-6);
      screenshot("30-stability");
    }
  }

  /**
   * With --token, reading needs it too: the page loads, asks for the token at its first read (a wrong one again),
   * shows nothing of any run before it, then streams with it, changes with it, keeps it for the tab and never asks
   * again, not after a reload either.
   */
  @Test
  @Order(31)
  void withATokenThePageAsksForItOnceAndKeepsIt() throws Exception {
    String token = "page-test-token";
    try (TestServer secured = new TestServer(ServerConfig.defaults().forTest(0).withToken(token))) {
      secured.bearer = token;
      String id = secured.create(CREEPING);
      driver.get("http://127.0.0.1:" + secured.port() + "/");
      WebElement bar = driver.findElement(By.id("token-bar"));
      wait.until(d -> bar.isDisplayed());
      screenshot("31-token-asked");
      assertNull(row(id), "nothing of a run before the token");
      type(bar, "token", "not the token");
      bar.findElement(By.cssSelector("button[type=submit]")).click();
      wait.until(d -> bar.isDisplayed() && bar.getText().contains("refused"));
      assertNull(row(id), "nothing of a run with a wrong token");
      type(bar, "token", token);
      bar.findElement(By.cssSelector("button[type=submit]")).click();
      WebElement row = wait.until(d -> row(id));
      waitForStepAbove(id, 0);
      assertFalse(bar.isDisplayed());
      assertEquals(token, js("return sessionStorage.getItem('losswatch.token')"));

      press(row.findElement(By.cssSelector("button[data-act=pause]")));
      wait.until(d -> "paused".equals(row(id).getAttribute("data-state")));
      assertEquals("paused", secured.get("/api/runs/" + id).json().get("state"));
      WebElement resume = row(id).findElement(By.cssSelector("button[data-act=resume]"));
      wait.until(d -> resume.isDisplayed());
      press(resume);
      wait.until(d -> "running".equals(row(id).getAttribute("data-state")));
      assertFalse(bar.isDisplayed(), "asked once");

      driver.navigate().refresh();   // the tab keeps it: a reload reads and streams without asking
      wait.until(d -> row(id) != null);
      waitForStepAbove(id, 0);
      assertFalse(driver.findElement(By.id("token-bar")).isDisplayed(), "not asked after a reload");
    }
  }

  // ---- helpers ----

  @SuppressWarnings("unchecked")
  private List<String> drawn() {
    return (List<String>) js("return losswatch.drawn");
  }

  /** The computed colour of the swatch inside {@code el}: "rgb(r, g, b)". */
  private String swatch(WebElement el) {
    return (String) js("return getComputedStyle(arguments[0].querySelector('.swatch')).backgroundColor", el);
  }

  /** OKLab (Björn Ottosson's) of a CSS "rgb(r, g, b)": distances there follow what eyes tell apart. */
  static double[] oklab(String css) {
    String[] parts = css.replaceAll("[^0-9,.]", "").split(",");
    double[] lin = new double[3];
    for (int i = 0; i < 3; i++) {
      double v = Double.parseDouble(parts[i]) / 255;
      lin[i] = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    }
    double l = Math.cbrt(0.4122214708 * lin[0] + 0.5363325363 * lin[1] + 0.0514459929 * lin[2]);
    double m = Math.cbrt(0.2119034982 * lin[0] + 0.6806995451 * lin[1] + 0.1073969566 * lin[2]);
    double s = Math.cbrt(0.0883024619 * lin[0] + 0.2817188376 * lin[1] + 0.6299787005 * lin[2]);
    return new double[] {0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
        1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s};
  }

  static double dist(double[] a, double[] b) {
    return Math.sqrt(Math.pow(a[0] - b[0], 2) + Math.pow(a[1] - b[1], 2) + Math.pow(a[2] - b[2], 2));
  }

  /** Makes the page's viewport (not the window) this wide. */
  private void viewport(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
    long inner = longJs("return innerWidth");
    if (inner != width) driver.manage().window().setSize(new Dimension((int) (2L * width - inner), height));
    wait.until(d -> longJs("return innerWidth") == width);
  }

  /** The lag readouts the page showed (recorded in window.lagsSeen) from index {@code from}: waits for n. */
  private List<Long> waitForLags(int from, int n) {
    return wait.until(d -> {
      List<Long> out = new ArrayList<>();
      List<?> seen = (List<?>) js("return lagsSeen");
      for (Object o : seen.subList(Math.min(from, seen.size()), seen.size())) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("lag: (\\d+) ms").matcher(String.valueOf(o));
        if (m.matches()) out.add(Long.valueOf(m.group(1)));
      }
      return out.size() >= n ? out : null;
    });
  }

  private void waitForPlaceholders(String text) {
    wait.until(d -> d.findElements(By.cssSelector(".chart-box .empty")).stream()
        .filter(e -> e.isDisplayed() && e.getText().toLowerCase(Locale.ROOT).startsWith(text)).count() == 4);   // loss, lr, gradient norm, stability
  }

  private String base() {
    return "http://127.0.0.1:" + server.port() + "/";
  }

  private WebElement row(String id) {
    List<WebElement> rows = driver.findElements(By.cssSelector("#runs tbody tr[data-run='" + id + "']"));
    return rows.isEmpty() ? null : rows.get(0);
  }

  /** Waits until the run's row shows a step above {@code above}; returns that step. */
  private long waitForStepAbove(String id, long above) {
    return wait.until(d -> {
      WebElement r = row(id);
      String step = r == null ? null : r.getAttribute("data-step");
      return step != null && Long.parseLong(step) > above ? Long.valueOf(step) : null;
    });
  }

  private static void type(WebElement form, String name, String text) {
    type(form, By.name(name), text);
  }

  private static void type(WebElement root, By by, String text) {
    WebElement input = root.findElement(by);
    input.clear();
    input.sendKeys(text);
  }

  /**
   * Clicks a control in a run's row. The table's columns widen and narrow as the numbers in them change every frame,
   * so a pointer click aimed where the button was a moment ago can land beside it on a busy machine (CI did, twice);
   * the page handles the click event on the button, which this sends.
   */
  private void press(WebElement button) {
    js("arguments[0].click()", button);
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  private long longJs(String script, Object... args) {
    return ((Number) js(script, args)).longValue();
  }

  private double doubleJs(String script, Object... args) {
    Object v = js(script, args);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private void screenshot(String name) throws IOException {
    File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
