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

  private static Result java(String... args) throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    assertTrue(Files.isRegularFile(jar), jar + " is built by mvn package");
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheCommands() throws Exception {
    Result r = java("--help");
    assertEquals(0, r.status);
    assertTrue(r.out.contains("trace --spec"), r.out);
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
          "rosenbrock: adagrad", "logreg: warmup_cosine", "edge of stability: gd lr=0.4")) {
        assertTrue(runs.contains("\"name\":\"" + name + "\""), name + " in " + runs);
      }
      assertEquals(15, runs.split("\"id\":").length - 1, "the gallery has fifteen runs");
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
