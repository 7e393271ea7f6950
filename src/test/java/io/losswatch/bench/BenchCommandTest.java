package io.losswatch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The bench jar's command line, read without measuring anything. */
class BenchCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private CommandLine bench(BenchCommand b) {
    return Cli.commandLine(b, Cli.writer(out), Cli.writer(err));
  }

  @Test
  void helpListsTheSectionsAndMeasuresNothing() {
    for (String help : List.of("--help", "-h")) {
      out.reset();
      assertEquals(0, bench(new BenchCommand()).execute(help));
      String usage = out.toString(StandardCharsets.UTF_8);
      assertTrue(usage.startsWith("usage: java -Xmx2g -jar target/losswatch-bench.jar [--quick] [--only=SECTION]\n"), usage);
      for (String s : BenchCommand.SECTIONS) assertTrue(usage.contains(s), s + " in " + usage);
      assertTrue(!usage.contains("| figure |"), "nothing measured");
    }
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void onlyTakesItsSectionEitherWay() {
    for (String[] args : List.of(new String[] {"--only=lr-free", "--quick"}, new String[] {"--quick", "--only", "lr-free"},
        new String[] {"--only", "sweep", "--only=lr-free", "--quick"})) {
      BenchCommand b = new BenchCommand();
      bench(b).parseArgs(args);
      assertEquals("lr-free", b.only, String.join(" ", args));
      assertTrue(b.quick, String.join(" ", args));
    }
  }

  @Test
  void aWrongSectionOrOptionIsOneLineWithStatus2() {
    for (var c : List.of(
        List.of("--only=nope", "bench: --only: must be one of " + String.join(", ", BenchCommand.SECTIONS) + ", got nope; try --help"),
        List.of("--only", "bench: --only: needs a value; try --help"),
        List.of("--fast", "bench: --fast: unknown option; try --help"))) {
      out.reset();
      err.reset();
      assertEquals(2, bench(new BenchCommand()).execute(c.get(0)), c.get(0));
      assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing measured");
      assertEquals(c.get(1) + "\n", err.toString(StandardCharsets.UTF_8));
    }
  }
}
