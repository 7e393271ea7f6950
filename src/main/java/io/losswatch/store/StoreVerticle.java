package io.losswatch.store;

import io.losswatch.event.Events;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.train.RunRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes every batch of every persisted run to its log, and each state change to its {@code run.json}.
 * Deployed as a worker: the file I/O never touches an event loop. Its consumer queues what it has not
 * written yet; nothing is dropped, however slow the disk or any reader.
 */
public final class StoreVerticle extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(StoreVerticle.class.getName());
  private final RunStore store;
  private final RunRegistry runs;

  public StoreVerticle(RunStore store, RunRegistry runs) {
    this.store = store;
    this.runs = runs;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().localConsumer(Events.RUNS, m -> {
      try {
        if (m.body() instanceof StepBatch b) write(b);
        else if (m.body() instanceof RunSummary s) record(s);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "store: " + e.getMessage(), e);
      }
    }).completion();
  }

  private void write(StepBatch b) throws IOException {
    StepLog log = store.log(b.run());
    if (log == null) return;   // not persisted (a demo run), or already deleted
    log.append(b);
    runs.get(b.run()).ifPresent(r -> r.history().persisted(b.lastStep()));
  }

  private void record(RunSummary s) throws IOException {
    if (s.state() == RunState.DELETED) store.delete(s.id());
    else if (store.log(s.id()) != null) store.writeMeta(s);
  }
}
