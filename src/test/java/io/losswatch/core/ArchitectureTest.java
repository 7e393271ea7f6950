package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The core is pure math on the JDK: no Vert.x, no Micrometer. */
class ArchitectureTest {
  @Test
  void coreImportsNeitherVertxNorMicrometer() throws IOException {
    Path core = Path.of("src/main/java/io/losswatch/core");
    assertTrue(Files.isDirectory(core), "run from the project root");
    List<String> offenders;
    try (Stream<Path> files = Files.walk(core)) {
      offenders = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
        try {
          String src = Files.readString(p);
          return src.contains("io.vertx") || src.contains("io.micrometer");
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }).map(Path::toString).collect(Collectors.toList());
    }
    assertTrue(offenders.isEmpty(), "core files naming io.vertx or io.micrometer: " + offenders);
  }
}
