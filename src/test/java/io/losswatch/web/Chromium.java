package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium driven by its chromedriver, never a downloaded one: without /usr/bin/chromium and
 * /usr/bin/chromedriver a test is skipped (visibly), or fails when {@code LOSSWATCH_REQUIRE_BROWSER=1} (as in CI).
 * A fresh profile each time, removed on close.
 */
final class Chromium implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  final ChromeDriver driver;
  private final Path profile;

  private Chromium(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  /** Returns if the browser is here; otherwise skips the test, or fails it under LOSSWATCH_REQUIRE_BROWSER=1. */
  static void require() {
    List<String> missing = new ArrayList<>();
    for (Path p : List.of(BINARY, DRIVER)) if (!Files.isExecutable(p)) missing.add(p.toString());
    if (missing.isEmpty()) return;
    String why = "missing " + String.join(" and ", missing) + " (apt-get install chromium chromium-driver)";
    if ("1".equals(System.getenv("LOSSWATCH_REQUIRE_BROWSER"))) fail("LOSSWATCH_REQUIRE_BROWSER=1 but " + why);
    System.out.println("SKIPPED browser tests: " + why);
    Assumptions.assumeTrue(false, "SKIPPED browser tests: " + why);
  }

  /** A headless browser whose window is {@code width} × {@code height}, recording the page's console. */
  static Chromium start(int width, int height) throws IOException {
    require();
    Path profile = Files.createTempDirectory("losswatch-chromium-");
    System.setProperty("webdriver.chrome.driver", DRIVER.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BINARY.toString());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=" + width + "," + height, "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
    return new Chromium(new ChromeDriver(service, options), profile);
  }

  /** The page's script errors since the last call (failed requests are the server's answers, not the page's). */
  List<String> scriptErrors() {
    List<String> errors = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      String m = e.getMessage();
      if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !m.contains("Failed to load resource")
          && !m.contains("WebSocket connection")) {
        errors.add(m);
      }
    }
    return errors;
  }

  @Override
  public void close() throws IOException {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> paths = Files.walk(profile)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }
}
