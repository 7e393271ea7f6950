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
import org.junit.jupiter.api.io.TempDir;

/** The fat jar, run as a user runs it. */
class JarIT {
  private record Result(int status, String out, String err) {
  }

  /** Runs the jar with {@code args}; one that is still running after a minute is killed and fails the test. */
  private static Result java(String... args) throws IOException, InterruptedException {
    return java(Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar")), args);
  }

  private static Result java(Path jar, String... args) throws IOException, InterruptedException {
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
  void aWrongOptionIsOneLineWithStatus2() throws Exception {
    Result r = java("--nope");
    assertEquals(2, r.status, r.out + r.err);
    assertEquals("", r.out);
    assertEquals("losswatch: --nope: unknown option; try --help\n", r.err);
  }

  /** The benchmark is a jar of its own beside the server's, which holds none of it. */
  @Test
  void theBenchmarkIsItsOwnJar() throws Exception {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
      List<String> bench = zip.stream().map(java.util.zip.ZipEntry::getName).filter(n -> n.startsWith("io/losswatch/bench/")).toList();
      assertEquals(List.of(), bench, "benchmark code in " + jar);
      assertTrue(zip.getEntry("io/losswatch/Main.class") != null);
    }
    Result here = java("bench", "--quick");
    assertEquals(2, here.status, here.out + here.err);
    assertTrue(here.err.startsWith("bench: not in this jar: the benchmark is java -Xmx2g -jar target/losswatch-bench.jar"),
        here.err);
    Path benchJar = Path.of(System.getProperty("losswatch.bench.jar", "target/losswatch-bench.jar"));
    Result help = java(benchJar, "--help");
    assertEquals(0, help.status, help.err);
    assertTrue(help.out.startsWith("usage: java -Xmx2g -jar target/losswatch-bench.jar [--quick] [--only=SECTION]"), help.out);
    assertTrue(help.out.contains("lr-free") && !help.out.contains("| figure |"), "nothing measured: " + help.out);
    Result bad = java(benchJar, "--only", "nope");
    assertEquals(2, bad.status, bad.out);
    assertEquals("bench: --only: must be one of pipeline, history, ws-all, ws-live, ingest, metrics, sweep, flood,"
        + " wildcard, cluster, cluster-scale, cluster-catchup, lr-free, got nope; try --help\n", bad.err);
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
  void aSecondServerOnATakenPortSaysSoInOneLineAndExitsTwo(@TempDir Path data) throws Exception {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    Process first = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--port", "0", "--demo", "none", "--data-dir", data.toString())
        .redirectErrorStream(true).start();
    try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8))) {
      String page = null;
      for (String line = out.readLine(); line != null && page == null; line = out.readLine()) {
        if (line.trim().startsWith("page")) page = line.trim().substring(4).trim();
      }
      assertTrue(page != null, "the first server started");
      String port = page.replaceAll(".*:(\\d+)/$", "$1");
      var http = java.net.http.HttpClient.newHttpClient();
      var create = java.net.http.HttpRequest.newBuilder(java.net.URI.create(page + "api/runs"))
          .header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"source\":\"external\",\"name\":\"first\"}")).build();
      String id = http.send(create, java.net.http.HttpResponse.BodyHandlers.ofString()).body().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
      var append = java.net.http.HttpRequest.newBuilder(java.net.URI.create(page + "api/runs/" + id + "/steps"))
          .header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"step\":[1,2,3],\"loss\":[3,2,1]}")).build();
      assertEquals(200, http.send(append, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());

      // the same port and the same data folder: refused before anything of the first is touched
      long start = System.nanoTime();
      Result second = java("--port", port, "--demo", "none", "--data-dir", data.toString());
      assertEquals(2, second.status, second.out + second.err);
      assertEquals("port " + port + " is in use: another program (another losswatch?) listens on 127.0.0.1:" + port
          + "; stop it, or choose another --port\n", second.err);
      assertEquals("", second.out);
      assertTrue(System.nanoTime() - start < 30_000_000_000L, "within seconds");
      String steps = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(page + "api/runs/" + id + "/steps")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(steps.contains("\"step\":[1,2,3]"), "the first server still serves its run: " + steps);
    } finally {
      first.destroy();
      assertTrue(first.waitFor(20, TimeUnit.SECONDS), "stops on SIGTERM");
    }
  }

  @Test
  void aServerThatCannotListenSaysWhyInOneLineAndExits() throws Exception {
    // 192.0.2.1 is TEST-NET-1: never this machine's; the port is free, the bind fails all the same
    Result r = java("--host", "192.0.2.1", "--insecure", "--port", "18099", "--demo", "none", "--data-dir",
        Files.createTempDirectory("losswatch-jar").toString());
    assertEquals(1, r.status, r.out + r.err);
    assertEquals(1, r.err.lines().count(), "one line, no stack trace: " + r.err);
    assertTrue(r.err.startsWith("serve: cannot start on 192.0.2.1:18099: "), r.err);
  }

  @Test
  void anInvalidSpecExitsTwo() throws Exception {
    Result r = java("trace", "--spec", "{\"problem\":\"nope\",\"optimizer\":\"adam\",\"steps\":2}");
    assertEquals(2, r.status);
    assertEquals("", r.out);
    assertTrue(r.err.contains("problem.type"), r.err);
  }
}
