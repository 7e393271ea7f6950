package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The page's pure ES modules (format, colours, axes, thinning, the lag clock, the forms' fields, the runs table's
 * arithmetic) under Node's own test runner: {@code node --test src/test/js/*.test.mjs}, no npm package. Skipped
 * (visibly) without {@code node}, required when {@code LOSSWATCH_REQUIRE_TOOLS=1} (.ci/run installs nodejs).
 */
class PageModulesTest {
  private static final Path TESTS = Path.of("src", "test", "js");

  @Test
  void theModulesPassTheirNodeTests() throws Exception {
    Path repo = Python.repo();
    String node = node();
    if (node == null) {
      Python.requireMissing("nodejs", "the page's module tests (src/test/js)", "no node on the PATH");
      return;
    }
    List<String> command = new ArrayList<>(List.of(node, "--test"));
    try (Stream<Path> files = Files.list(repo.resolve(TESTS))) {
      // Node 18 (Debian's) takes no globs: every test file by name
      files.map(Path::toString).filter(f -> f.endsWith(".test.mjs")).sorted().forEach(command::add);
    }
    assertTrue(command.size() > 2, "no *.test.mjs under " + TESTS);
    Path out = Files.createTempFile("losswatch-node-test-", ".txt");
    try {
      Process p = new ProcessBuilder(command).directory(repo.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      assertTrue(p.waitFor(10, TimeUnit.MINUTES), "node --test still running after 10 minutes");
      String report = Files.readString(out, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), "node --test failed:\n" + report);
      assertFalse(report.contains("# pass 0"), "no test ran:\n" + report);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The node on the PATH, or null. */
  private static String node() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 ? "node" : null;
    } catch (IOException | InterruptedException e) {
      return null;
    }
  }
}
