package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The layering, read from the sources' imports: a package may use only the floors below its own, never a
 * sibling on its floor, so there is no cycle and no component reaches into another's objects sideways. Peers
 * (store, metrics, web, alert, cluster) talk through events and request/reply on the event bus.
 */
class ArchitectureTest {
  private static final Path MAIN = Path.of("src/main/java/io/losswatch");
  private static final Map<String, Integer> FLOOR = Map.ofEntries(
      Map.entry("core", 0),
      Map.entry("event", 1),
      Map.entry("history", 2),
      Map.entry("train", 3),
      Map.entry("store", 4), Map.entry("metrics", 4), Map.entry("web", 4), Map.entry("alert", 4), Map.entry("cluster", 4),
      Map.entry("server", 5),
      Map.entry("cli", 6), Map.entry("bench", 6), Map.entry("", 7));
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.losswatch\\.([a-z]*)", Pattern.MULTILINE);

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
  void theCoreIsPureJava() throws IOException {
    for (Path file : sources()) {
      if (!top(file).equals("core")) continue;
      String text = Files.readString(file);
      assertTrue(!text.contains("io.vertx") && !text.contains("io.micrometer"), file + " names Vert.x or Micrometer");
    }
  }

  private static List<Path> sources() throws IOException {
    try (Stream<Path> s = Files.walk(MAIN)) {
      return s.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  /** The package right under io.losswatch ("" for io.losswatch itself). */
  private static String top(Path file) {
    Path rel = MAIN.relativize(file);
    return rel.getNameCount() == 1 ? "" : rel.getName(0).toString();
  }
}
