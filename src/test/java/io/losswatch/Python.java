package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.core.config.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * A script of the Python client ({@code clients/python}) run by Debian's {@code /usr/bin/python3} (never whatever
 * {@code python3} is first on the PATH) with {@code PYTHONPATH=clients/python}. Its stdout and stderr go to files
 * (a full pipe would stall it); the scripts print JSON lines ({@code {"event": ...}}) for the test to follow.
 */
public final class Python implements AutoCloseable {
  public static final Path PYTHON = Path.of("/usr/bin/python3");
  private static Boolean torch;

  public final Process process;
  private final Path out;
  private final Path err;
  private final String command;

  private Python(Process process, Path out, Path err, String command) {
    this.process = process;
    this.out = out;
    this.err = err;
    this.command = command;
  }

  /** The repository: surefire and failsafe run in the project folder. */
  public static Path repo() {
    Path p = Path.of("").toAbsolutePath();
    assertTrue(Files.isRegularFile(p.resolve("pom.xml")), "tests must run in the project folder, not " + p);
    return p;
  }

  /**
   * Returns if /usr/bin/python3 (and PyTorch for it, when {@code withTorch}) is there; otherwise skips the test
   * with a NOTICE on stdout, or fails it when LOSSWATCH_REQUIRE_TOOLS=1 (CI: .ci/run installs python3-torch).
   */
  public static void require(boolean withTorch, String what) {
    String why = null;
    if (!Files.isExecutable(PYTHON)) {
      why = PYTHON + " is not installed (apt-get install python3" + (withTorch ? " python3-torch)" : ")");
    } else if (withTorch && !hasTorch()) {
      why = "PyTorch is not installed for " + PYTHON + " (apt-get install python3-torch)";
    }
    if (why == null) return;
    if ("1".equals(System.getenv("LOSSWATCH_REQUIRE_TOOLS"))) fail(why + " and LOSSWATCH_REQUIRE_TOOLS=1");
    System.out.println("NOTICE: skipped " + what + ": " + why);
    Assumptions.assumeTrue(false, why);
  }

  /** Skips (NOTICE) or fails under LOSSWATCH_REQUIRE_TOOLS=1 because {@code packages} are missing. */
  public static void requireMissing(String packages, String what, String detail) {
    String why = packages + " not installed (apt-get install " + packages.replace(" and ", " ") + "): " + detail;
    if ("1".equals(System.getenv("LOSSWATCH_REQUIRE_TOOLS"))) fail(why + " and LOSSWATCH_REQUIRE_TOOLS=1");
    System.out.println("NOTICE: skipped " + what + ": " + why);
    Assumptions.assumeTrue(false, why);
  }

  private static synchronized boolean hasTorch() {
    if (torch == null) {
      try {
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch").redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        torch = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (IOException | InterruptedException e) {
        torch = false;
      }
    }
    return torch;
  }

  /** Starts the repository's {@code script} (a path from its root) with these arguments; its output goes to files in {@code dir}. */
  public static Python start(Path dir, String script, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), repo().resolve(script)
        .toString()));
    cmd.addAll(List.of(args));
    String name = Path.of(script).getFileName().toString().replace(".py", "");
    Path out = Files.createTempFile(dir, name, ".out");
    Path err = Files.createTempFile(dir, name, ".err");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo().toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.put("PYTHONPATH", repo().resolve("clients/python").toString());
    env.put("PYTHONUNBUFFERED", "1");
    env.put("PYTHONDONTWRITEBYTECODE", "1");   // no __pycache__ in the repository
    env.remove("LOSSWATCH_URL");
    env.remove("LOSSWATCH_TOKEN");
    Process p = pb.start();
    p.getOutputStream().close();
    return new Python(p, out, err, String.join(" ", cmd));
  }

  public String stdout() throws IOException {
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  public String stderr() throws IOException {
    return Files.readString(err, StandardCharsets.UTF_8);
  }

  /** Everything the script said, for a failure's message. */
  public String output() throws IOException {
    return command + "\n--- stdout\n" + tail(stdout()) + "\n--- stderr\n" + tail(stderr());
  }

  private static String tail(String s) {
    return s.length() > 6000 ? "..." + s.substring(s.length() - 6000) : s;
  }

  /** The JSON lines the script printed so far. */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> events() throws IOException {
    List<Map<String, Object>> all = new ArrayList<>();
    for (String line : stdout().split("\n")) {
      if (line.startsWith("{") && line.endsWith("}")) all.add((Map<String, Object>) Json.parse(line));
    }
    return all;
  }

  /** The first event named so that matches, waiting for it; fails if the script ends first or time runs out. */
  public Map<String, Object> await(String event, Predicate<Map<String, Object>> p, long seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Patience.seconds(seconds));
    while (true) {
      boolean ended = !process.isAlive();
      for (Map<String, Object> e : events()) {
        if (event.equals(e.get("event")) && p.test(e)) return e;
      }
      if (ended) fail("the script ended (exit " + process.exitValue() + ") without \"" + event + "\":\n" + output());
      if (System.nanoTime() > end) fail("no \"" + event + "\" in " + seconds + " s:\n" + output());
      Thread.sleep(20);
    }
  }

  public Map<String, Object> await(String event, long seconds) throws Exception {
    return await(event, e -> true, seconds);
  }

  /** Waits for the script to end and fails unless it exits 0. */
  public void awaitSuccess(long seconds) throws Exception {
    if (!process.waitFor(Patience.seconds(seconds), TimeUnit.SECONDS)) fail("the script did not end in " + seconds + " s:\n" + output());
    if (process.exitValue() != 0) fail("the script exited " + process.exitValue() + ":\n" + output());
  }

  /** Runs a command (not a script) to its end; returns its exit status and output. */
  public static Map.Entry<Integer, String> run(Path dir, long seconds, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    Path log = Files.createTempFile(dir, "run", ".log");
    try (var in = p.getInputStream()) {
      Files.copy(in, log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", command) + " did not end in " + seconds + " s");
    }
    return Map.entry(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroy();   // SIGTERM: the script's atexit hook may still finish its run
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
