package io.losswatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int trace(String... args) {
    String[] line = new String[args.length + 1];
    line[0] = "trace";
    System.arraycopy(args, 0, line, 1, args.length);
    return LosswatchCommand.run(line, Cli.writer(out), Cli.writer(err));
  }

  @Test
  void printsOneRowPerStepInShortestRoundTripForm() {
    assertEquals(0, trace("--spec", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":3}"));
    assertEquals("step,loss,lr,grad_norm\n1,100.0,0.1,20.0\n2,64.0,0.1,16.0\n3,40.96000000000001,0.1,12.8\n",
        out.toString(StandardCharsets.UTF_8));
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void withCurvatureItPrintsSharpnessAndStabilityEveryCurvatureEverySteps() {
    assertEquals(0, trace("--spec", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.9},"
        + "\"steps\":4,\"curvature_every\":2}", "--curvature"));
    assertEquals("step,loss,lr,grad_norm,sharpness,stability\n1,100.0,0.9,20.0,NaN,NaN\n2,64.0,0.9,16.0,2.0,0.9\n"
        + "3,40.96000000000001,0.9,12.8,NaN,NaN\n4,26.214400000000012,0.9,10.240000000000002,2.0,0.9\n",
        out.toString(StandardCharsets.UTF_8));
    out.reset();
    // the same run without the flag: the same four columns as ever
    assertEquals(0, trace("--spec", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.9},"
        + "\"steps\":2,\"curvature_every\":2}"));
    assertEquals("step,loss,lr,grad_norm\n1,100.0,0.9,20.0\n2,64.0,0.9,16.0\n", out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void nonFiniteValuesPrintAsJavaDoesAndDoNotStopTheTrace() {
    assertEquals(0, trace("--spec", "{\"problem\":{\"type\":\"quadratic\",\"x0\":[1e300]},"
        + "\"optimizer\":{\"type\":\"sgd\",\"lr\":3},\"steps\":16}"));
    String[] rows = out.toString(StandardCharsets.UTF_8).split("\n");
    assertEquals(17, rows.length);
    assertEquals("1,Infinity,3.0,Infinity", rows[1], "the squares overflow, as in torch's vector_norm");
    assertEquals("16,NaN,3.0,NaN", rows[16], "x overflowed to infinity, then inf - inf");
  }

  @Test
  void readsTheSpecFromAFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("run.json");
    Files.writeString(f, "{\"problem\":\"rosenbrock\",\"optimizer\":\"adam\",\"steps\":2}");
    assertEquals(0, trace("--spec", f.toString()));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("step,loss,lr,grad_norm\n1,24.199999999999996,0.001,"),
        out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anInvalidSpecPrintsOneLineToStderrAndNothingToStdout() {
    assertEquals(2, trace("--spec", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":-1},\"steps\":3}"));
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    String e = err.toString(StandardCharsets.UTF_8);
    assertEquals(1, e.lines().count(), e);
    assertTrue(e.contains("optimizer.lr: must be > 0, got -1"), e);
  }

  @Test
  void anOversizedMlpIsOneLineNamingTheFieldNotAStackTrace() {
    assertEquals(2, trace("--spec", "{\"problem\":{\"type\":\"mlp\",\"hidden\":40000000},\"optimizer\":\"adam\","
        + "\"steps\":1}"));
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    assertEquals("trace: invalid spec: problem.hidden: at most 4096, got 40000000\n", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aMissingFileIsAClearError() {
    assertEquals(2, trace("--spec", "/nonexistent/run.json"));
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("/nonexistent/run.json"));
  }

  @Test
  void helpPrintsTracesOwnUsage() {
    for (String help : new String[] {"--help", "-h"}) {
      out.reset();
      assertEquals(0, trace(help));
      String usage = out.toString(StandardCharsets.UTF_8);
      assertTrue(usage.startsWith("usage: java -jar losswatch.jar trace --spec <JSON or file>\n"), usage);
      assertTrue(usage.contains("step,loss,lr,grad_norm") && usage.contains("--spec run.json"), usage);
    }
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  /** One line on stderr, nothing on stdout, exit 2, naming what to give. */
  private void refused(String expectedStart, String... args) {
    out.reset();
    err.reset();
    assertEquals(2, trace(args), String.join(" ", args));
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    String e = err.toString(StandardCharsets.UTF_8);
    assertEquals(1, e.lines().count(), e);
    assertTrue(e.startsWith(expectedStart), e);
    assertTrue(e.contains("give the RunSpec as inline JSON") && e.contains("or the path of a JSON file"), e);
  }

  @Test
  void aMissingEmptyOrUnreadableSpecSaysWhatToGive(@TempDir Path dir) throws Exception {
    refused("trace: --spec: is empty; ", "--spec", "");
    refused("trace: --spec: is empty; ", "--spec=");
    refused("trace: --spec: is empty; ", "--spec", "  ");
    refused("trace: --spec: is required; ");
    refused("trace: --spec: needs a value; ", "--spec");
    refused("trace: --steps: unknown option; ", "--steps", "3");
    refused("trace: --steps: unknown option; ", "--spec", "{}", "--steps=3");
    refused("trace: extra: unexpected argument; ", "--spec", "{}", "extra");
    refused("trace: cannot read the spec file /nonexistent/run.json (no such file); ", "--spec",
        "/nonexistent/run.json");
    refused("trace: cannot read the spec file " + dir + " (a folder, not a file); ", "--spec", dir.toString());
  }
}
