package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The live page in Debian's headless Chromium, against the real server in-process. Never downloads a driver
 * or a browser: without /usr/bin/chromium and /usr/bin/chromedriver the tests are skipped (visibly), or fail
 * when {@code LOSSWATCH_REQUIRE_BROWSER=1} (as in CI).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PageTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
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

  private TestServer server;
  private WebDriver driver;
  private WebDriverWait wait;
  private Path profile;
  private String creeping;
  private String adam;
  private String diverging;

  @BeforeAll
  void start() throws Exception {
    List<String> missing = new ArrayList<>();
    for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) if (!Files.isExecutable(p)) missing.add(p.toString());
    if (!missing.isEmpty()) {
      String why = "missing " + String.join(" and ", missing) + " (apt-get install chromium chromium-driver)";
      if ("1".equals(System.getenv("LOSSWATCH_REQUIRE_BROWSER"))) fail("LOSSWATCH_REQUIRE_BROWSER=1 but " + why);
      System.out.println("SKIPPED browser tests: " + why);
      Assumptions.assumeTrue(false, "SKIPPED browser tests: " + why);
    }
    Files.createDirectories(SCREENSHOTS);
    server = new TestServer(ServerConfig.defaults().forTest(0));
    creeping = server.create(CREEPING);
    adam = server.create(ADAM);
    diverging = server.create(DIVERGING);

    profile = Files.createTempDirectory("losswatch-chromium-");
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toString());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1440,1000", "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
    wait = new WebDriverWait(driver, WAIT, Duration.ofMillis(50));
    driver.get(base());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (driver != null) driver.quit();
    } finally {
      try {
        if (server != null) server.close();
      } finally {
        if (profile != null) deleteTree(profile);
      }
    }
  }

  /** A script error on the page fails the test that caused it (failed requests are the server's answers). */
  @AfterEach
  void noScriptErrors() {
    List<String> errors = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      String m = e.getMessage();
      if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !m.contains("Failed to load resource")
          && !m.contains("WebSocket connection")) {
        errors.add(m);
      }
    }
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
    type(form, "param", "100");
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
    type(form, "param", "");   // step_size is required
    form.findElement(By.cssSelector("button[type=submit]")).click();
    WebElement error = driver.findElement(By.id("form-error"));
    wait.until(d -> error.getText().contains("step_size"));
  }

  @Test
  @Order(5)
  void anLrChangeMadeOnThePageShowsInTheLrChart() throws Exception {
    WebElement row = wait.until(d -> row(creeping));
    type(row, By.cssSelector(".lr-input"), "0.0042");
    row.findElement(By.cssSelector("button[data-act=lr]")).click();
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

  /** The server restarts on the same port: the page reconnects by itself and reloads what the new one has. */
  @Test
  @Order(7)
  void afterAServerRestartThePageReconnectsAndReloads() throws Exception {
    int port = server.port();
    server.close();
    server = null;
    wait.until(d -> !"live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    server = new TestServer(ServerConfig.defaults().forTest(port));
    String fresh = server.create(CREEPING.replace("sgd creeping", "after the restart"));
    wait.until(d -> row(fresh) != null && "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    waitForStepAbove(fresh, 0);
    wait.until(d -> row(creeping) == null && row(adam) == null);
    screenshot("05-reconnected");
  }

  // ---- helpers ----

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

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
