package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The packaged jar as a process ({@code java -jar target/losswatch.jar serve …}) on a port of its own, its output in a
 * file (a full pipe would stall it), stopped as a process is: SIGTERM or kill -9.
 */
public final class JarServer implements AutoCloseable {
  public final Process process;
  public final Path log;
  public final int port;

  /** A free port on the loopback, for a server that must come back on the same one. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts the jar on {@code port} with its data in {@code data}; returns once it serves. */
  public JarServer(int port, Path data, Path log) throws Exception {
    this.port = port;
    this.log = log;
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    assertTrue(Files.isRegularFile(jar), jar + " is built by mvn package");
    process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-jar", jar.toString(), "serve", "--port", Integer.toString(port), "--demo", "none", "--data-dir", data.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    HttpClient http = HttpClient.newHttpClient();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      assertTrue(process.isAlive() && System.nanoTime() < end, "the server starts: " + output());
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/health")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException notYet) {
        LockSupport.parkNanos(50_000_000);   // polled until it answers
      }
    }
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  public String output() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  /** SIGTERM, and waits for the process to exit (its shutdown hook takes at most 15 s). */
  public void terminate() throws InterruptedException {
    process.destroy();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the server exits after SIGTERM");
  }

  /** kill -9: no shutdown hook runs. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) kill();
  }
}
