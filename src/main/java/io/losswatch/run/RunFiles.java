package io.losswatch.run;

import io.losswatch.core.state.State;
import io.losswatch.event.RunSummary;
import io.losswatch.history.StepLog;
import io.losswatch.event.StepBatch;
import java.io.IOException;
import java.util.List;

/** What the runs need of the disk: a new run's files, and a run's last checkpoint. The store provides it. */
public interface RunFiles {
  /** A new run's folder and its empty log; fails on a full disk. */
  StepLog create(RunSummary created) throws IOException;

  /** The run's last checkpoint, null when it has none. */
  State snapshot(String run);

  /** Takes over another node's run from a shared data folder: null when its files are not here. */
  Restored adopt(String run) throws IOException;

  /** A run read back from disk: its summary as of the last write (a live run's as interrupted) and its repaired log. */
  record Restored(RunSummary summary, StepLog log, List<StepBatch> abandoned) {
  }
}
