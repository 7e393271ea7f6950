package io.losswatch.core.problem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import org.junit.jupiter.api.Test;

class ProblemsReadTest {
  private static Problem.Config read(String json) {
    return Problems.read(Options.of("problem", Json.parse(json)));
  }

  private static void rejects(String json, String prefix) {
    SpecException e = assertThrows(SpecException.class, () -> read(json), json);
    assertTrue(e.getMessage().startsWith(prefix), "message for " + json + " was: " + e.getMessage());
  }

  @Test
  void everyTypeReadsWithDefaults() {
    int[] dims = {1, 2, 2, 11, 31, 15, 64 * 32 + 32 + 320 + 10};
    for (int i = 0; i < Problems.TYPES.size(); i++) {
      String type = Problems.TYPES.get(i);
      for (Object node : new Object[] {type, Json.parse("{\"type\":\"" + type + "\"}")}) {
        Problem.Config c = Problems.read(Options.of("problem", node));
        assertEquals(type, c.type());
        Problem p = c.create();
        assertNotSame(p, c.create());
        assertEquals(dims[i], p.dimension(), type);
        assertEquals(dims[i], p.initialParams().length, type);
      }
    }
    assertArrayEquals(new double[] {10}, ((Quadratic.Config) read("\"quadratic\"")).x0());
    assertEquals(new Mlp.Config(32, 0, 0), read("{\"type\":\"mlp\"}"));
  }

  @Test
  void readsOptions() {
    Problem.Config q = read("{\"type\":\"quadratic\",\"x0\":[1,-2.5,3]}");
    assertArrayEquals(new double[] {1, -2.5, 3}, q.create().initialParams());
    Problem.Config m = read("{\"type\":\"mlp\",\"hidden\":4,\"seed\":7,\"batch_size\":100}");
    assertEquals(new Mlp.Config(4, 7, 100), m);
    assertInstanceOf(Mlp.class, m.create());
    assertEquals(100, ((Mlp) m.create()).currentBatchSize());
    assertEquals(64 * 4 + 4 + 40 + 10, m.create().dimension());
    // explicit null means absent
    assertEquals(new Mlp.Config(32, 0, 0), read("{\"type\":\"mlp\",\"hidden\":null,\"batch_size\":null}"));
  }

  @Test
  void rejectsBadTypes() {
    rejects("{}", "problem.type: is required");
    rejects("{\"type\":\"rosenbrok\"}", "problem.type: must be one of");
    rejects("\"lstm\"", "problem.type: must be one of");
    rejects("{\"type\":3}", "problem.type: must be a string");
    SpecException e = assertThrows(SpecException.class, () -> Options.of("problem", Json.parse("[1]")));
    assertTrue(e.getMessage().startsWith("problem: "), e.getMessage());
  }

  @Test
  void rejectsUnknownKeys() {
    rejects("{\"type\":\"rosenbrock\",\"x0\":[1]}", "problem.x0: unknown key for rosenbrock");
    rejects("{\"type\":\"ellipse\",\"seed\":1}", "problem.seed: unknown key for ellipse");
    rejects("{\"type\":\"linreg\",\"hidden\":3}", "problem.hidden: unknown key for linreg");
    rejects("{\"type\":\"logreg\",\"lr\":3}", "problem.lr: unknown key for logreg");
    rejects("{\"type\":\"softmax\",\"batch_size\":3}", "problem.batch_size: unknown key for softmax");
    rejects("{\"type\":\"mlp\",\"hiden\":3}", "problem.hiden: unknown key for mlp");
    rejects("{\"type\":\"quadratic\",\"x\":[3]}", "problem.x: unknown key for quadratic");
  }

  @Test
  void rejectsWrongJsonTypes() {
    rejects("{\"type\":\"quadratic\",\"x0\":5}", "problem.x0: must be an array");
    rejects("{\"type\":\"quadratic\",\"x0\":[1,\"2\"]}", "problem.x0[1]: must be a number");
    rejects("{\"type\":\"quadratic\",\"x0\":[null]}", "problem.x0[0]: must be a number");
    rejects("{\"type\":\"mlp\",\"hidden\":\"32\"}", "problem.hidden: must be an integer");
    rejects("{\"type\":\"mlp\",\"seed\":true}", "problem.seed: must be an integer");
    rejects("{\"type\":\"mlp\",\"batch_size\":[64]}", "problem.batch_size: must be an integer");
  }

  @Test
  void rejectsBadValues() {
    rejects("{\"type\":\"quadratic\",\"x0\":[]}", "problem.x0: must not be empty");
    rejects("{\"type\":\"quadratic\",\"x0\":[1,1e999]}", "problem.x0[1]: must be finite");
    rejects("{\"type\":\"mlp\",\"hidden\":0}", "problem.hidden: must be >= 1, got 0");
    rejects("{\"type\":\"mlp\",\"hidden\":2.5}", "problem.hidden: must be an integer, got 2.5");
    rejects("{\"type\":\"mlp\",\"seed\":-1}", "problem.seed: must be >= 0, got -1");
    rejects("{\"type\":\"mlp\",\"batch_size\":0}", "problem.batch_size: must be >= 1, got 0");
    rejects("{\"type\":\"mlp\",\"hidden\":1e12}", "problem.hidden: at most 4096, got 1000000000000");
  }

  @Test
  void capsTheMlpsSizes() {
    rejects("{\"type\":\"mlp\",\"hidden\":100000}", "problem.hidden: at most 4096, got 100000");
    rejects("{\"type\":\"mlp\",\"hidden\":40000000}", "problem.hidden: at most 4096, got 40000000");
    rejects("{\"type\":\"mlp\",\"batch_size\":1000001}", "problem.batch_size: at most 1000000, got 1000001");
    rejects("{\"type\":\"mlp\",\"batch_size\":1e300}", "problem.batch_size: at most 1000000, got 1.0E300");
    assertEquals(new Mlp.Config(4096, 0, 1_000_000), read("{\"type\":\"mlp\",\"hidden\":4096,\"batch_size\":1000000}"));
  }
}
