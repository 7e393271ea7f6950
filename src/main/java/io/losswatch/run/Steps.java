package io.losswatch.run;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Function;

/**
 * Where this node gets any run's steps, whichever node owns it. Its own run's are read from its history (memory and
 * log) off the event loop; another node's come through the cluster ({@link Peers}): read from the node that owns
 * the run (or from the data folder the nodes share, once that node left), and its new steps come here only while a
 * client here follows it. Every answer comes back on the caller's event loop.
 */
public final class Steps {
  /** What a client follows of a run's new steps: every one, or what a live view shows of them, {@code hz} times a second. */
  public record Interest(boolean every, double hz) {
    public static final Interest EVERY = new Interest(true, 0);

    public static Interest live(double hz) {
      return new Interest(false, hz);
    }
  }

  private final Vertx vertx;
  private volatile Peers peers = Peers.ALONE;

  Steps(Vertx vertx) {
    this.vertx = vertx;
  }

  /** The other nodes, once this one joined a cluster. */
  public void peers(Peers p) {
    peers = p;
  }

  /**
   * Reads what {@code q} asks of {@code run}, then makes {@code then} of the steps off the event loop (a message, a
   * chunk of CSV); fails as the read does ({@link io.losswatch.event.RunRefusal} when another node cannot answer now).
   */
  public <T> Future<T> read(Run run, HistoryRead q, Function<StepBatch, T> then) {
    Context caller = vertx.getOrCreateContext();
    if (run.local()) return caller.executeBlocking(() -> then.apply(run.history().read(q)), false);
    Promise<T> done = Promise.promise();
    peers.read(run, q).onComplete(ar -> {
      if (ar.failed()) caller.runOnContext(v -> done.fail(ar.cause()));
      else caller.executeBlocking(() -> then.apply(ar.result()), false).onComplete(done);
    });
    return done.future();
  }

  /**
   * One client starts following {@code run}'s new steps as {@code interest} says: completes once they come here (at
   * once for a run this node owns, whose steps are here anyway), never fails. Ended by one {@link #unfollow} of the
   * same interest.
   */
  public Future<Void> follow(Run run, Interest interest) {
    if (run.local()) return Future.succeededFuture();
    Context caller = vertx.getOrCreateContext();
    Promise<Void> ready = Promise.promise();
    peers.follow(run, interest).onComplete(ar -> caller.runOnContext(v -> ready.complete()));
    return ready.future();
  }

  /** One client stops following run {@code run} as it did with {@code interest}. */
  public void unfollow(String run, Interest interest) {
    peers.unfollow(run, interest);
  }
}
