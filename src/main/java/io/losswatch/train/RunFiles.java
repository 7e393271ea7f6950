package io.losswatch.train;

import io.losswatch.core.state.State;
import io.losswatch.event.RunSummary;
import io.losswatch.history.StepLog;
import java.io.IOException;

/** What the runs need of the disk: a new run's files, and a run's last checkpoint. The store provides it. */
public interface RunFiles {
  /** A new run's folder and its empty log; fails on a full disk. */
  StepLog create(RunSummary created) throws IOException;

  /** The run's last checkpoint, null when it has none. */
  State snapshot(String run);
}
