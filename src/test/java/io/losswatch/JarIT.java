package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The fat jar, run as a user runs it. */
class JarIT {
  private record Result(int status, String out, String err) {
  }

  /** Runs the jar with {@code args}; one that is still running after a minute is killed and fails the test. */
  private static Result java(String... args) throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    assertTrue(Files.isRegularFile(jar), jar + " is built by mvn package");
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("losswatch-out", ".txt");
    Path err = Files.createTempFile("losswatch-err", ".txt");
    try {
      Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      p.getOutputStream().close();
      boolean ended = p.waitFor(60, TimeUnit.SECONDS);
      if (!ended) p.destroyForcibly().waitFor();
      assertTrue(ended, String.join(" ", args) + " still running after a minute: " + Files.readString(out));
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  @Test
  void helpListsTheCommands() throws Exception {
    Result r = java("--help");
    assertEquals(0, r.status);
    assertTrue(r.out.contains("trace --spec"), r.out);
  }

  @Test
  void benchHelpPrintsItsOptionsAndMeasuresNothing() throws Exception {
    Result r = java("bench", "--help");
    assertEquals(0, r.status, r.err);
    assertTrue(r.out.startsWith("usage: java -Xmx2g -jar losswatch.jar bench"), r.out);
    assertTrue(r.out.contains("--only=SECTION") && r.out.contains("ws-live"), r.out);
    assertTrue(!r.out.contains("pipeline\n") && !r.out.contains("| figure |"), "nothing measured: " + r.out);
    Result bad = java("bench", "--only=nope");
    assertEquals(2, bad.status, bad.out);
    assertEquals("bench: --only must be one of pipeline, history, ws-all, ws-live, ingest, metrics, sweep, cluster,"
        + " got nope; try bench --help\n", bad.err);
  }

  @Test
  void traceRunsFromTheJar() throws Exception {
    Result r = java("trace", "--spec", "{\"problem\":\"mlp\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.01},\"steps\":2}");
    assertEquals(0, r.status, r.err);
    List<String> lines = r.out.lines().toList();
    assertEquals("step,loss,lr,grad_norm", lines.get(0));
    assertEquals(3, lines.size());
    double loss = Double.parseDouble(lines.get(1).split(",")[1]);
    assertEquals(Math.log(10), loss, 0.1, "the first mlp loss is about ln 10: " + lines.get(1));
  }

  @Test
  void serveStartsTheDemoGalleryAndSaysWhereToLook() throws Exception {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--port", "0").redirectErrorStream(true).start();
    try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String page = null;
      for (String line = out.readLine(); line != null && page == null; line = out.readLine()) {
        if (line.trim().startsWith("page")) page = line.trim().substring(4).trim();
      }
      assertTrue(page != null && page.startsWith("http://127.0.0.1:"), "prints the page address: " + page);
      var http = java.net.http.HttpClient.newHttpClient();
      String runs = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(page + "api/runs")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      for (String name : List.of("textbook: sgd lr=0.001", "textbook: sgd lr=1.1", "rosenbrock: adam",
          "rosenbrock: adagrad", "logreg: warmup_cosine")) {
        assertTrue(runs.contains("\"name\":\"" + name + "\""), name + " in " + runs);
      }
      assertEquals(12, runs.split("\"id\":").length - 1, "the gallery has twelve runs");
    } finally {
      p.destroy();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stops on SIGTERM");
    }
  }

  @Test
  void anInvalidSpecExitsTwo() throws Exception {
    Result r = java("trace", "--spec", "{\"problem\":\"nope\",\"optimizer\":\"adam\",\"steps\":2}");
    assertEquals(2, r.status);
    assertEquals("", r.out);
    assertTrue(r.err.contains("problem.type"), r.err);
  }
}
