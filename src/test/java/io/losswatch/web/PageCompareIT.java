package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Issue 22's "done when", in Chromium against the real server: fifty runs of one's own, made by the Python client
 * (ten lrs × five schedules of an MLP on the digits, val/acc every epoch), and a person who finds which lr and
 * schedule gave the best validation accuracy, then looks at those runs' curves side by side. Then the rest of the
 * comparison: metrics by name, the x axes, zoom, the legend at fifty runs, tags and notes, export, grouping.
 * Screenshots of it go to target/screenshots (docs/img has copies).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PageCompareIT {
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int EPOCHS = 4;
  private static final int RUNS = 50;
  private static final String ACC = "result:val/acc:last";

  private TestServer server;
  private Chromium browser;
  private WebDriver driver;
  private WebDriverWait wait;
  /** What the script measured: each run's id, lr, schedule and final validation accuracy. */
  private final List<Map<String, Object>> made = new ArrayList<>();

  @BeforeAll
  void start(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Chromium.require();
    Python.require(true, "the fifty runs of the page's comparison");
    Files.createDirectories(SCREENSHOTS);
    server = new TestServer();
    try (Python script = Python.start(dir, "clients/python/tests/scripts/many_runs.py",
        "http://127.0.0.1:" + server.port(), "--epochs", String.valueOf(EPOCHS))) {
      script.awaitSuccess(900);
      for (Map<String, Object> e : script.events()) if ("run".equals(e.get("event"))) made.add(e);
      assertFalse(script.stderr().contains("is not sent"), "every metric reached the server:\n" + script.stderr());
    }
    assertEquals(RUNS, made.size());
    for (Map<String, Object> m : made) {   // the notes each run was given at its end (run.notes = ..., a PATCH)
      String notes = (String) server.get("/api/runs/" + m.get("id")).json().get("notes");
      assertTrue(notes.endsWith(String.format(java.util.Locale.ROOT, "val/acc %.4f", TestServer.num(m.get("val_acc")))), notes);
    }
    browser = Chromium.start(1400, 1100);
    driver = browser.driver;
    wait = new WebDriverWait(driver, WAIT, Duration.ofMillis(50));
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (browser != null) browser.close();
    } finally {
      if (server != null) server.close();
    }
  }

  /** Each test starts from the page as a first visit shows it (nothing remembered). */
  @BeforeEach
  void fresh() {
    driver.get("http://127.0.0.1:" + server.port() + "/");
    js("localStorage.clear()");
    driver.navigate().refresh();
    wait.until(d -> "live".equals(d.findElement(By.id("conn")).getAttribute("data-state"))
        && d.findElements(By.cssSelector("#runs tbody tr[data-run]")).size() >= RUNS
        && Boolean.TRUE.equals(js("""
            const ids = Object.keys(losswatch.runs);
            return losswatch.drawn.length >= arguments[0] && ids.every(id => {
              const s = losswatch.series[id].step;
              return s.length > 0 && s[s.length - 1] === losswatch.runs[id].step;
            })""", RUNS)));
    // measured, not held to a budget: from the reload to every run's row, and every run's steps drawn
    System.out.printf("PageCompareIT: %d runs on the page, all their steps drawn, %.0f ms after the reload%n", RUNS,
        doubleJs("return performance.now()"));
  }

  @AfterEach
  void noScriptErrors() {
    List<String> errors = browser.scriptErrors();
    assertTrue(errors.isEmpty(), "script errors on the page: " + errors);
  }

  /**
   * The "done when": which lr and schedule gave the best validation accuracy (columns chosen, sorted by
   * val/acc, grouped by schedule to see which schedule does best on average, filtered to it), then the best runs'
   * curves side by side (drawn alone, their val/acc and loss overlaid).
   */
  @Test
  @Order(1)
  void fiftyRunsTheBestLrAndScheduleAndTheirCurvesSideBySide() throws Exception {
    double bestAcc = made.stream().mapToDouble(m -> TestServer.num(m.get("val_acc"))).max().orElseThrow();
    Set<String> best = made.stream().filter(m -> TestServer.num(m.get("val_acc")) == bestAcc)
        .map(m -> (String) m.get("id")).collect(Collectors.toSet());

    // the columns: val/acc, the config's lr and schedule
    pickColumns("config:config.lr", "config:config.schedule", ACC);
    // sorted by val/acc: highest first on the first click (an accuracy)
    driver.findElement(By.cssSelector("#runs thead button[data-sort='" + ACC + "']")).click();
    WebElement top = wait.until(d -> {
      List<WebElement> rows = visibleRows();
      return rows.isEmpty() || !best.contains(rows.get(0).getAttribute("data-run")) ? null : rows.get(0);
    });
    String id = top.getAttribute("data-run");
    Map<String, Object> truth = made.stream().filter(m -> id.equals(m.get("id"))).findFirst().orElseThrow();
    assertEquals(String.valueOf(truth.get("schedule")), cell(top, "config:config.schedule"));
    assertEquals(TestServer.num(truth.get("lr")), Double.parseDouble(cell(top, "config:config.lr")), 1e-12);
    assertEquals(bestAcc, Double.parseDouble(top.findElement(By.cssSelector("td.col[data-col='" + ACC + "']"))
        .getAttribute("title").replaceAll(".*= ", "")), 1e-12, "the cell's title holds the exact value");
    List<Double> accs = visibleRows().stream().map(r -> num(cell(r, ACC))).toList();
    for (int i = 1; i < accs.size(); i++) assertTrue(accs.get(i) <= accs.get(i - 1), "highest first: " + accs);
    // the comparison chart rings the same run
    wait.until(d -> best.contains(String.valueOf(js("return losswatch.scatter && losswatch.scatter.best"))));
    assertEquals("config:config.lr", js("return losswatch.scatter.x"));
    assertEquals(ACC, js("return losswatch.scatter.y"));
    assertEquals(Boolean.TRUE, js("return losswatch.scatter.logx"), "lrs from 0.001 to 1: a log x axis by default");
    assertEquals(String.valueOf(RUNS), driver.findElement(By.id("chart-scatter")).getAttribute("data-points"));
    // the lr chart is logarithmic by default too: a ×10 step at a small lr shows as one
    assertEquals(3L, longJs("return losswatch.charts.lr.scales.y.distr"));
    assertTrue(driver.findElement(By.cssSelector(".log-toggle[data-chart=lr]")).isSelected());

    // grouped by schedule: each group's mean val/acc in its row; the best schedule on average is the truth's
    new Select(driver.findElement(By.id("group-by"))).selectByValue("config:config.schedule");
    Map<String, Double> means = new java.util.TreeMap<>();
    for (Map<String, Object> m : made) means.merge(String.valueOf(m.get("schedule")), TestServer.num(m.get("val_acc")) / 10, Double::sum);
    String bestSchedule = means.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    List<WebElement> groups = wait.until(d -> {
      List<WebElement> g = d.findElements(By.cssSelector("#runs tbody tr.group-row"));
      return g.size() == 5 ? g : null;
    });
    String pageBest = null;
    double pageMean = -1;
    for (WebElement g : groups) {
      double mean = Double.parseDouble(g.findElement(By.cssSelector("td[data-col='" + ACC + "']")).getAttribute("data-mean"));
      String key = g.getAttribute("data-group");
      assertEquals(means.get(key), mean, 1e-9, "the mean val/acc of " + key);
      if (mean > pageMean) { pageMean = mean; pageBest = key; }
    }
    assertEquals(bestSchedule, pageBest);
    js("arguments[0].scrollIntoView({block: 'start'})", driver.findElement(By.cssSelector("section.runs")));
    screenshot("compare-grouped");
    elementShot(driver.findElement(By.cssSelector("section.runs")), "docs-runs-table");

    // the best run's schedule alone, then its three best runs drawn and nothing else
    new Select(driver.findElement(By.id("group-by"))).selectByValue("");
    type(driver.findElement(By.id("filter")), "schedule=" + truth.get("schedule"));
    wait.until(d -> visibleRows().size() == 10);
    List<WebElement> rows = visibleRows();
    List<String> three = rows.subList(0, 3).stream().map(r -> r.getAttribute("data-run")).toList();
    assertTrue(three.contains(id), "the best run is among its schedule's best three");
    driver.findElement(By.id("select-all")).click();   // none drawn
    wait.until(d -> drawn().isEmpty());
    for (WebElement r : rows.subList(0, 3)) r.findElement(By.cssSelector("input.show")).click();
    wait.until(d -> new HashSet<>(drawn()).equals(new HashSet<>(three)));
    // side by side: their val/acc, every epoch of each (read over REST, not thinned away), and their losses
    WebElement accChart = wait.until(d -> d.findElement(By.cssSelector("#metric-charts .chart[data-metric='val/acc']")));
    wait.until(d -> Long.parseLong(accChart.getAttribute("data-points")) == 3L * EPOCHS);
    wait.until(d -> longJs("return losswatch.points.loss") >= 3L * 15 * EPOCHS);
    assertEquals(3L, longJs("return losswatch.charts['m:val/acc'].series.length - 1"), "three lines");
    js("window.scrollTo(0, 0)");
    screenshot("compare-best-three");
    elementShot(driver.findElement(By.cssSelector(".charts")), "docs-best-three-charts");
  }

  /** Every metric the runs logged is offered by its name; each picked one is a chart, overlaid across runs. */
  @Test
  @Order(2)
  void everyMetricIsChartedByName() throws Exception {
    WebElement picker = wait.until(d -> {
      WebElement p = d.findElement(By.id("metric-picker"));
      return p.isDisplayed() ? p : null;
    });
    @SuppressWarnings("unchecked")
    List<String> names = (List<String>) js("return losswatch.metrics.names");
    assertEquals(Set.of("val/acc", "val/loss", "train/loss", "epoch"), new HashSet<>(names), "as the script wrote them");
    assertEquals(List.of("val/acc", "val/loss"), names.subList(0, 2), "validation first");
    // by default: all but the epoch (an axis, not a curve)
    wait.until(d -> d.findElements(By.cssSelector("#metric-charts .panel")).size() == 3);
    WebElement trainLoss = picker.findElement(By.cssSelector("input[value='train/loss']"));
    trainLoss.click();
    wait.until(d -> d.findElements(By.cssSelector("#metric-charts .panel")).size() == 2);
    driver.navigate().refresh();
    wait.until(d -> d.findElements(By.cssSelector("#metric-charts .panel")).size() == 2
        && !d.findElement(By.cssSelector("#metric-picker input[value='train/loss']")).isSelected());   // remembered
    // every run's every epoch on the val/acc chart
    WebElement acc = driver.findElement(By.cssSelector("#metric-charts .chart[data-metric='val/acc']"));
    wait.until(d -> Long.parseLong(acc.getAttribute("data-points")) == (long) RUNS * EPOCHS);
  }

  /** The x axis: epoch (as logged), wall time, time since the start, progress; one 4-epoch run ends at epoch 4, 100%. */
  @Test
  @Order(3)
  void theXAxisIsStepTimeEpochOrProgress() throws Exception {
    Select x = new Select(driver.findElement(By.id("x-mode")));
    String chart = "losswatch.charts['m:val/acc']";
    x.selectByValue("epoch");
    wait.until(d -> doubleJs("const u = " + chart + "; return u && u.data[1] && u.data[1][0].length ? u.data[1][0].at(-1) : -1")
        == EPOCHS);
    assertEquals("epoch", js("return " + chart + ".axes[0].label"));
    elementShot(driver.findElement(By.cssSelector("#metric-charts .panel")), "docs-val-acc-by-epoch");
    x.selectByValue("progress");
    wait.until(d -> doubleJs("const u = losswatch.charts.loss; return u.data[1][0].at(-1)") == 1.0);
    x.selectByValue("relative");
    wait.until(d -> {
      double first = doubleJs("return losswatch.charts.loss.data[1][0][0]");
      return first >= 0 && first < 60;   // seconds since its first step
    });
    x.selectByValue("time");
    double t = doubleJs("return losswatch.charts.loss.data[1][0].at(-1)");
    assertTrue(Math.abs(t - System.currentTimeMillis() / 1000.0) < 3600, "wall time in seconds: " + t);
    x.selectByValue("step");
  }

  /**
   * A drag zooms every chart to the same steps, and the zoom stays while a run goes on; its y fits what it shows;
   * a double-click undoes it. A run that went non-finite is marked once, not per point.
   */
  @Test
  @Order(4)
  void aZoomStaysAsStepsComeAndNonFiniteIsMarkedOnce() throws Exception {
    String going = server.create("{\"name\":\"going on\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
        + "\"steps\":1000000,\"steps_per_second\":30,\"tags\":[\"live\"]}");
    String diverging = server.create("{\"name\":\"blows up\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":3},"
        + "\"steps\":1000}");
    try {
      type(driver.findElement(By.id("filter")), "tag:live");
      wait.until(d -> visibleRows().size() == 1 && drawn().equals(List.of(going)));
      wait.until(d -> longJs("return losswatch.series[arguments[0]].step.length", going) > 40);
      WebElement over = driver.findElement(By.cssSelector("#chart-loss .u-over"));
      int w = over.getSize().getWidth();
      new Actions(driver).moveToElement(over, -w / 4, 0).clickAndHold().moveByOffset(w / 4, 0).release().perform();
      @SuppressWarnings("unchecked")
      List<Number> zoom = (List<Number>) wait.until(d -> js("return losswatch.zoom"));
      assertTrue(driver.findElement(By.cssSelector(".zoom-note")).isDisplayed());
      long before = longJs("const s = losswatch.series[arguments[0]].step; return s[s.length - 1]", going);
      wait.until(d -> longJs("const s = losswatch.series[arguments[0]].step; return s[s.length - 1]", going) > before + 30);
      for (String c : List.of("loss", "lr", "grad_norm")) {
        assertEquals(zoom.get(0).doubleValue(), doubleJs("return losswatch.charts[arguments[0]].scales.x.min", c), 1e-9, c);
        assertEquals(zoom.get(1).doubleValue(), doubleJs("return losswatch.charts[arguments[0]].scales.x.max", c), 1e-9, c);
      }
      new Actions(driver).doubleClick(driver.findElement(By.cssSelector("#chart-loss .u-over"))).perform();
      wait.until(d -> js("return losswatch.zoom") == null);
      assertFalse(driver.findElement(By.cssSelector(".zoom-note")).isDisplayed());

      type(driver.findElement(By.id("filter")), "blows");
      wait.until(d -> drawn().equals(List.of(diverging)) && "diverged".equals(row(diverging).getAttribute("data-state")));
      List<WebElement> marks = wait.until(d -> {
        List<WebElement> m = d.findElements(By.cssSelector("#chart-loss .nonfinite-mark"));
        return m.isEmpty() ? null : m;
      });
      assertEquals(1, marks.size(), "one mark for the run, not one a point");
      assertTrue(marks.get(0).getAttribute("title").startsWith("blows up: diverged at step "), marks.get(0).getAttribute("title"));
      // the scripts' runs sent finite values throughout: no mark for any of them
      type(driver.findElement(By.id("filter")), "tag:digits");
      wait.until(d -> drawn().size() == RUNS);
      @SuppressWarnings("unchecked")
      List<String> marked = (List<String>) js("return [...document.querySelectorAll('#chart-loss .nonfinite-mark')].map(m => m.title)");
      assertEquals(Boolean.TRUE, js("const r = [...document.querySelectorAll('#chart-loss .nonfinite-mark')].map(m => m.dataset.run);"
          + " return new Set(r).size === r.length"), "at most one mark a run: " + marked);
      for (WebElement n : driver.findElements(By.cssSelector(".charts .hidden-note"))) {
        assertFalse(n.getText().contains("NaN"), "no NaN in a chart's notes: " + n.getText());
      }
      Set<String> names = made.stream().map(m -> "mlp " + m.get("schedule") + " lr=").collect(Collectors.toSet());
      for (String t : marked) {
        assertTrue(names.stream().noneMatch(t::startsWith) || t.contains("NaN") || t.contains("∞"),
            "a mark only where a run really went non-finite (no gradient norm is not NaN): " + t);
      }
    } finally {
      server.request("DELETE", "/api/runs/" + going, null);
      server.request("DELETE", "/api/runs/" + diverging, null);
    }
  }

  /** At fifty runs the legend finds runs by name or tag and shows or hides them together, and each group. */
  @Test
  @Order(5)
  void theLegendStaysUsableAtFiftyRuns() throws Exception {
    WebElement search = driver.findElement(By.id("legend-search"));
    type(search, "onecycle");
    wait.until(d -> "10 of 50 runs".equals(d.findElement(By.cssSelector(".legend-count")).getText()));
    assertEquals(10, driver.findElements(By.cssSelector("#legend .entry")).stream().filter(WebElement::isDisplayed).count());
    driver.findElement(By.cssSelector(".legend-tools [data-legend=hide]")).click();
    wait.until(d -> drawn().size() == RUNS - 10);
    type(search, "");
    new Select(driver.findElement(By.id("group-by"))).selectByValue("config:config.schedule");
    WebElement chip = wait.until(d -> d.findElements(By.cssSelector(".legend-groups .group-chip[data-group='onecycle']"))
        .stream().findFirst().orElse(null));
    assertTrue(chip.getAttribute("class").contains("off"), "its runs are all hidden");
    chip.click();
    wait.until(d -> drawn().size() == RUNS);
    driver.findElement(By.cssSelector(".legend-groups .group-chip[data-group='cosine']")).click();
    wait.until(d -> drawn().size() == RUNS - 10);
    // drawn as groups: one line a schedule, its range shaded
    driver.findElement(By.id("draw-groups")).click();
    wait.until(d -> longJs("return losswatch.charts.loss.series.length - 1") == 5);
    js("window.scrollTo(0, 0)");
    elementShot(driver.findElement(By.cssSelector(".charts .panel.wide")), "docs-groups-mean-range");
  }

  /** Tags and notes set from the page reach the server (and come back on the row); a tag filters. */
  @Test
  @Order(6)
  void tagsAndNotesAreSetFromThePage() throws Exception {
    WebElement row = visibleRows().get(0);
    String id = row.getAttribute("data-run");
    row.findElement(By.cssSelector("button.edit")).click();
    WebElement form = wait.until(d -> d.findElement(By.cssSelector("tr.editor[data-run='" + id + "'] form")));
    type(form.findElement(By.name("tags")), "digits, keep, best so far");
    type(form.findElement(By.name("notes")), "the one to build on");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    wait.until(d -> d.findElements(By.cssSelector("tr.editor")).isEmpty());
    wait.until(d -> row(id).findElements(By.cssSelector(".meta .tag")).stream().map(WebElement::getText).toList()
        .equals(List.of("digits", "keep", "best so far")));
    Map<String, Object> s = server.get("/api/runs/" + id).json();
    assertEquals(List.of("digits", "keep", "best so far"), s.get("tags"));
    assertEquals("the one to build on", s.get("notes"));
    row(id).findElements(By.cssSelector(".meta .tag")).get(1).click();   // "keep": the filter shows it alone
    wait.until(d -> visibleRows().size() == 1);
    assertEquals("tag:keep", driver.findElement(By.id("filter")).getAttribute("value"));
    // a tag the server refuses is said on the form
    row(id).findElement(By.cssSelector("button.edit")).click();
    WebElement again = wait.until(d -> d.findElement(By.cssSelector("tr.editor[data-run='" + id + "'] form")));
    type(again.findElement(By.name("tags")), "x".repeat(65));
    again.findElement(By.cssSelector("button[type=submit]")).click();
    wait.until(d -> again.findElement(By.cssSelector(".error")).getText().startsWith("tags[0]: at most 64 characters"));
    again.findElement(By.cssSelector(".cancel")).click();
  }

  /** The drawn runs, or one run, as CSV and JSON in one click: what GET /api/export answers. */
  @Test
  @Order(7)
  void theDrawnRunsExportInOneClick() throws Exception {
    type(driver.findElement(By.id("filter")), "schedule=cosine lr<=0.01");
    wait.until(d -> visibleRows().size() == 4 && drawn().size() == 4);
    List<String> ids = drawn();
    driver.findElement(By.cssSelector(".compare-bar [data-export=csv]")).click();
    String csv = (String) wait.until(d -> js("return losswatch.exported && losswatch.exported.file.endsWith('.csv') ? losswatch.exported.text : null"));
    assertEquals(server.get("/api/export?format=csv&runs=" + String.join(",", ids)).body(), csv);
    List<List<String>> rows = CompareApiIT.parseCsv(csv);
    assertTrue(rows.get(0).containsAll(List.of("config.lr", "config.schedule", "val/acc", "train/loss")), rows.get(0).toString());
    assertEquals(ids.size(), rows.stream().skip(1).map(r -> r.get(0)).distinct().count());
    // one run's own, from its row
    WebElement one = visibleRows().get(0);
    one.findElement(By.cssSelector(".meta [data-export=json]")).click();
    String json = (String) wait.until(d -> js("return losswatch.exported && losswatch.exported.file.endsWith('.json') ? losswatch.exported.text : null"));
    assertEquals(server.get("/api/export?format=json&runs=" + one.getAttribute("data-run")).body(), json);
  }

  /**
   * One 100,000-step run among the fifty short ones: the x axis fits the fifty (not squashed into its left edge),
   * says which run goes on and how far, and shows all of it on a click; aligned by progress, every run fits.
   */
  @Test
  @Order(8)
  void aLongRunDoesNotSquashTheOthers() throws Exception {
    String far = server.create("{\"name\":\"the long one\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\","
        + "\"lr\":0.01},\"steps\":100000}");
    try {
      wait.until(d -> "finished".equals(row(far).getAttribute("data-state")));
      double shortEnd = 0;   // where the fifty end
      for (Map<String, Object> m : made) shortEnd = Math.max(shortEnd, TestServer.num(server.get("/api/runs/" + m.get("id")).json().get("step")));
      double end = shortEnd;
      wait.until(d -> drawn().size() == RUNS + 1
          && longJs("const s = losswatch.series[arguments[0]].step; return s.length ? s[s.length - 1] : 0", far) == 100_000);
      String xMax = "return losswatch.charts.loss.scales.x.max";
      wait.until(d -> doubleJs(xMax) == end);
      WebElement note = driver.findElement(By.cssSelector(".fit-note"));
      assertTrue(note.isDisplayed());
      assertEquals("x fits 50 of 51 runs: the long one goes on to 100000 steps show all", note.getText());
      assertEquals(end, doubleJs("return losswatch.charts['m:val/acc'].scales.x.max"), "every chart the same x");
      // y fits what the x range shows: the long run's loss, near 0 by its end, does not flatten the fifty
      assertTrue(doubleJs("return losswatch.charts.loss.scales.y.min") > 1e-6, "y: " + doubleJs("return losswatch.charts.loss.scales.y.min"));
      js("window.scrollTo(0, 0)");
      elementShot(driver.findElement(By.cssSelector(".charts .panel.wide")), "docs-long-run-fitted");
      driver.findElement(By.id("fit-toggle")).click();
      wait.until(d -> doubleJs(xMax) == 100_000 && doubleJs("return losswatch.charts.loss.scales.y.min") < 1e-6);
      assertEquals("the long one reaches 100000 steps, far past the others fit the others", note.getText());
      driver.findElement(By.id("fit-toggle")).click();
      wait.until(d -> doubleJs(xMax) == end);
      // a row's ⤢ zooms every chart to its run's own x range; a double-click undoes it
      row(far).findElement(By.cssSelector(".zoom-run")).click();
      wait.until(d -> js("return losswatch.zoom") != null && doubleJs(xMax) == 100_000);
      js("window.scrollTo(0, 0)");
      new Actions(driver).doubleClick(driver.findElement(By.cssSelector("#chart-loss .u-over"))).perform();
      wait.until(d -> js("return losswatch.zoom") == null && doubleJs(xMax) == end);
      // aligned by progress, every run ends at 100%: nothing to cut
      new Select(driver.findElement(By.id("x-mode"))).selectByValue("progress");
      wait.until(d -> !note.isDisplayed() && doubleJs(xMax) == 1.0);
      new Select(driver.findElement(By.id("x-mode"))).selectByValue("step");
    } finally {
      server.request("DELETE", "/api/runs/" + far, null);
    }
  }

  // ---- helpers ----

  private void pickColumns(String... ids) {
    driver.findElement(By.cssSelector(".col-picker summary")).click();
    for (String id : ids) {
      WebElement box = wait.until(d -> d.findElement(By.cssSelector(".col-picker input[value='" + id + "']")));
      if (!box.isSelected()) box.click();
      wait.until(d -> !d.findElements(By.cssSelector("#runs thead th[data-col='" + id + "']")).isEmpty());
    }
    driver.findElement(By.cssSelector(".col-picker summary")).click();
  }

  private List<WebElement> visibleRows() {
    return driver.findElements(By.cssSelector("#runs tbody tr[data-run]:not(.editor)")).stream()
        .filter(WebElement::isDisplayed).toList();
  }

  private WebElement row(String id) {
    return driver.findElement(By.cssSelector("#runs tbody tr[data-run='" + id + "']:not(.editor)"));
  }

  private static String cell(WebElement row, String col) {
    return row.findElement(By.cssSelector("td.col[data-col='" + col + "']")).getText();
  }

  private static double num(String text) {
    return text.isEmpty() || text.equals("–") ? Double.NEGATIVE_INFINITY : Double.parseDouble(text);
  }

  @SuppressWarnings("unchecked")
  private List<String> drawn() {
    return (List<String>) js("return losswatch.drawn");
  }

  private static void type(WebElement input, String text) {
    input.clear();
    input.sendKeys(text);
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
    Files.copy(((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath(),
        SCREENSHOTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** A picture of one part of the page (small enough for the docs). */
  private void elementShot(WebElement el, String name) throws IOException {
    Files.copy(el.getScreenshotAs(OutputType.FILE).toPath(), SCREENSHOTS.resolve(name + ".png"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
