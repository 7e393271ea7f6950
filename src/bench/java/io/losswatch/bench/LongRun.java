package io.losswatch.bench;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.store.RunStore;
import io.losswatch.history.StepLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** A finished run of any length written straight into a data folder, as the store would have: for the history bench. */
final class LongRun {
  private LongRun() {
  }

  /** Writes a finished run of {@code steps} noisy, decaying losses under {@code data}; returns its id. */
  static String write(Path data, long steps) throws IOException {
    RunSpec spec = RunSpec.parse("{\"name\":\"long\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
        + "\"steps\":" + Math.min(steps, Integer.MAX_VALUE) + "}");
    RunStore store = new RunStore(data);
    RunSummary created = RunSummary.created("longrun1", spec, System.currentTimeMillis());
    StepLog log = store.create(created);
    SplittableRandom random = new SplittableRandom(1);
    StepBatch.Builder b = new StepBatch.Builder(1 << 16);
    double best = Double.NaN;
    for (long s = 1; s <= steps; s++) {
      double loss = 100.0 / Math.sqrt(s) * (1 + 0.1 * random.nextDouble());
      if (!(loss >= best)) best = loss;
      b.add(s, loss, 0.001, loss, 1_700_000_000_000L + s);
      if (b.size() == 1 << 16 || s == steps) log.append(b.build(created.id()));
    }
    log.closeWriter();
    store.writeMeta(new RunSummary(created.id(), spec, RunState.FINISHED, 0, steps, Double.NaN, Double.NaN,
        Double.NaN, best, 0, created.created(), System.currentTimeMillis(), created.diagnosis(), created.lrChanges(), null));
    return created.id();
  }
}
