package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering, read from the sources: a package may use only the floors below its own, never a sibling on its
 * floor, so there is no cycle and no component reaches into another's objects sideways. Peers (store, metrics, web,
 * alert, cluster) talk through typed events and request/reply on the event bus; the core is pure Java, its own
 * packages layered the same way; a bus message is taken by its type, never asked what it is; and only {@code web}
 * speaks HTTP.
 */
class ArchitectureTest {
  private static final Path MAIN = Path.of("src/main/java/io/losswatch");
  /** The live-server benchmark: its own source root and jar, on top of everything (nothing in the server uses it). */
  private static final Path BENCH = Path.of("src/bench/java/io/losswatch");
  private static final Map<String, Integer> FLOOR = Map.ofEntries(
      Map.entry("core", 0),
      Map.entry("event", 1),
      Map.entry("history", 2),
      Map.entry("run", 3),
      Map.entry("store", 4), Map.entry("metrics", 4), Map.entry("web", 4), Map.entry("alert", 4), Map.entry("cluster", 4),
      Map.entry("server", 5),
      Map.entry("cli", 6), Map.entry("", 7), Map.entry("bench", 8));
  /**
   * Inside the core: configuration and exact state first; the optimizers, schedules and problems on them; the
   * curvature measured on a problem through an optimizer's eyes; then a run's spec and trainer (the core's own
   * package), the diagnosis that reads runs, and the policy that acts on it.
   */
  private static final Map<String, Integer> CORE_FLOOR = Map.ofEntries(
      Map.entry("config", 0), Map.entry("state", 0),
      Map.entry("optim", 1), Map.entry("schedule", 1), Map.entry("problem", 1),
      Map.entry("curvature", 2),
      Map.entry("", 3),
      Map.entry("diagnosis", 4),
      Map.entry("policy", 5));
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.losswatch\\.([a-z]*)", Pattern.MULTILINE);
  private static final Pattern CORE_IMPORT = Pattern.compile("^import (?:static )?io\\.losswatch\\.core\\.(?:([a-z]+)\\.)?[A-Z]",
      Pattern.MULTILINE);

  @Test
  void everyPackageUsesOnlyTheFloorsBelowIt() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (Path file : sources()) {
      String pkg = top(file);
      Integer floor = FLOOR.get(pkg);
      if (floor == null) {
        wrong.add(file + ": package " + pkg + " has no floor in this test");
        continue;
      }
      Matcher m = IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String used = m.group(1);
        if (used.equals(pkg)) continue;
        Integer below = FLOOR.get(used);
        if (below == null || below >= floor) wrong.add(file + " (" + pkg + ") uses " + used);
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void theCoresPackagesUseOnlyTheFloorsBelowThem() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (Path file : sources()) {
      if (!top(file).equals("core")) continue;
      String pkg = corePackage(file);
      Integer floor = CORE_FLOOR.get(pkg);
      if (floor == null) {
        wrong.add(file + ": core package " + pkg + " has no floor in this test");
        continue;
      }
      Matcher m = CORE_IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String used = m.group(1) == null ? "" : m.group(1);
        if (used.equals(pkg)) continue;
        Integer below = CORE_FLOOR.get(used);
        if (below == null || below >= floor) wrong.add(file + " (core." + pkg + ") uses core." + used);
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void theCoreIsPureJava() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (Path file : sources()) {
      if (!top(file).equals("core")) continue;
      String text = Files.readString(file);
      if (text.contains("io.vertx") || text.contains("io.micrometer")) wrong.add(file + " names Vert.x or Micrometer");
    }
    assertEquals(List.of(), wrong);
  }

  /**
   * Bus messages are a sealed family taken through typed listeners and typed addresses: no consumer of {@code Object},
   * no {@code instanceof} on a message's body or on an event type.
   */
  @Test
  void noInstanceofDispatchOverBusMessages() throws IOException {
    Pattern untyped = Pattern.compile("Message<Object>|<Object>(?:local)?[cC]onsumer|MessageConsumer<Object>"
        + "|body\\(\\)\\s+instanceof|\\bbody\\s+instanceof|instanceof\\s+(?:StepBatch|RunSummary|Alert|Checkpoint|Rewound"
        + "|Append|Appended|Finish|Fork|RunCommand|RunList|HistoryRead|Follow|Bucket|Written|RunEvent)\\b");
    List<String> wrong = new ArrayList<>();
    for (Path file : sources()) {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        if (untyped.matcher(lines.get(i)).find()) wrong.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
      }
    }
    assertEquals(List.of(), wrong);
  }

  /**
   * HTTP answers are {@code web}'s: elsewhere a refusal is a {@code RunRefusal} (a kind, not a status), and only it
   * turns into a request/reply failure code (an HTTP client, such as the webhook's, may read the statuses it gets).
   */
  @Test
  void noHttpStatusOutsideWeb() throws IOException {
    Pattern status = Pattern.compile("\\.fail\\(\\s*[1-5]\\d\\d\\s*,|new ReplyException\\(|failureCode\\(\\)|setStatusCode");
    List<String> wrong = new ArrayList<>();
    for (Path file : sources()) {
      String pkg = top(file);
      if (pkg.equals("web") || pkg.equals("bench") || file.endsWith(Path.of("event", "RunRefusal.java"))) continue;
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        if (status.matcher(lines.get(i)).find()) wrong.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
      }
    }
    assertEquals(List.of(), wrong);
  }

  private static List<Path> sources() throws IOException {
    try (Stream<Path> main = Files.walk(MAIN); Stream<Path> bench = Files.walk(BENCH)) {
      return Stream.concat(main, bench).filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  /** The package right under io.losswatch ("" for io.losswatch itself). */
  private static String top(Path file) {
    Path rel = (file.startsWith(BENCH) ? BENCH : MAIN).relativize(file);
    return rel.getNameCount() == 1 ? "" : rel.getName(0).toString();
  }

  /** The package right under io.losswatch.core ("" for the core's own). */
  private static String corePackage(Path file) {
    Path rel = MAIN.resolve("core").relativize(file);
    return rel.getNameCount() == 1 ? "" : rel.getName(0).toString();
  }
}
