package io.losswatch.core.problem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import org.junit.jupiter.api.Test;

/** The cost estimates a server bounds a step with: what they count matches what the problems are. */
class StepCostTest {
  private static RunSpec spec(String problem) {
    return RunSpec.parse("{\"problem\":" + problem + ",\"optimizer\":\"adam\",\"steps\":10}");
  }

  @Test
  void parametersAreTheProblemsDimension() {
    for (String type : Problems.TYPES) {
      Problem.Config c = Problems.read(Options.of("problem", type));
      assertEquals(c.create().dimension(), c.parameters(), type);
      assertTrue(c.evaluationCost() > 0, type);
    }
    Mlp.Config big = new Mlp.Config(Mlp.MAX_HIDDEN, 0, 1);
    assertEquals(big.create().dimension(), big.parameters());
    Problem.Config q = Problems.read(Options.of("problem", Json.parse("{\"type\":\"quadratic\",\"x0\":[1,2,3]}")));
    assertEquals(3, q.parameters());
  }

  @Test
  void theMlpsConstantsMatchItsData() {
    assertEquals(Mlp.ROWS, new Mlp(1, 0, 0).currentBatchSize(), "the full batch is every row");
    Dataset digits = Dataset.load("digits");
    double lit = 0;
    for (double v : digits.x) if (v != 0) lit++;
    assertEquals(Mlp.ROWS, digits.rows);
    assertEquals(Mlp.MEAN_NONZERO, lit / Mlp.ROWS, 1, "nonzero pixels per row");
  }

  @Test
  void anMlpStepCostsWhatItsSizesSay() {
    long full32 = spec("{\"type\":\"mlp\",\"hidden\":32}").stepCost();
    long full64 = spec("{\"type\":\"mlp\",\"hidden\":64}").stepCost();
    assertEquals(2.0, (double) full64 / full32, 0.1, "about linear in hidden");
    long batch32 = spec("{\"type\":\"mlp\",\"hidden\":32,\"batch_size\":32}").stepCost();
    assertTrue(batch32 * 30 < full32, "a batch of 32 costs a fraction of 1797 rows");
    assertEquals(full32, spec("{\"type\":\"mlp\",\"hidden\":32,\"batch_size\":1000000}").stepCost(),
        "a batch past the rows is the full batch");
    long largest = spec("{\"type\":\"mlp\",\"hidden\":4096}").stepCost();
    assertTrue(largest > 500_000_000L && largest < 2_000_000_000L, "hidden 4096, full batch: " + largest);
    assertTrue(spec("\"rosenbrock\"").stepCost() < 100);
    assertTrue(spec("\"logreg\"").stepCost() < 1_000_000);
  }
}
