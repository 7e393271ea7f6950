package io.losswatch.run;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.StepBatch;
import io.vertx.core.Future;

/**
 * The other nodes of a cluster, as {@link Steps} needs them: another node's run's steps are read from it, and its
 * new steps come here while this node's clients follow it. The cluster provides it; a node alone has no other
 * node's run ({@link #ALONE}).
 */
public interface Peers {
  /** Reads steps of {@code run}, which another node owns (or owned, and left). */
  Future<StepBatch> read(Run run, HistoryRead q);

  /** One more client here follows {@code run}, another node's: completes once its steps come here. */
  Future<Void> follow(Run run, Steps.Interest interest);

  /** One client here less follows run {@code run} so (one that never followed it through here is ignored). */
  void unfollow(String run, Steps.Interest interest);

  Peers ALONE = new Peers() {
    @Override public Future<StepBatch> read(Run run, HistoryRead q) {
      return Future.failedFuture(RunRefusal.of(RunRefusal.Kind.NOT_FOUND, "run " + run.id() + " is not on this node"));
    }

    @Override public Future<Void> follow(Run run, Steps.Interest interest) {
      return Future.succeededFuture();
    }

    @Override public void unfollow(String run, Steps.Interest interest) {
    }
  };
}
