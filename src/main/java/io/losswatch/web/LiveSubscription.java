package io.losswatch.web;

import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.BucketPoints;
import io.losswatch.run.Steps;
import java.util.Map;

/**
 * A {@code live} subscription: first the run's history as one overview (sent when the queue has room; its
 * text stays in the {@link HistoryCache}), then at most {@code max_hz} updates a second, each the bucket of
 * steps since the last: its minimum-loss, maximum-loss and last points, so a spike between two updates is
 * never hidden (NaN counts as the maximum), and its last curvature measurement. Buckets go out in the client's frames; while the client lags,
 * a bucket keeps growing, so what the client reads next is the newest. A few hundred bytes, however far
 * behind the client is.
 */
final class LiveSubscription extends Subscription {
  /** Where the run's history overview stands: not sent (steps are ignored: it will hold them), being read, sent. */
  enum Overview { DUE, LOADING, SENT }

  long intervalMs;
  private double hz;
  Overview overview = Overview.DUE;
  private long sentThrough;  // the last step this client has, or has in its pending bucket
  private long lastSent;     // when the last bucket went out
  private long bucketFrom;   // the last step before the pending bucket: with the run, cycle and last step, it names it
  private final BucketPoints bucket = new BucketPoints();

  LiveSubscription(String run, int cycle, double hz) {
    super(run, cycle);
    rate(hz);
  }

  void rate(double hz) {
    this.hz = hz;
    intervalMs = Math.max(1, Math.round(1000 / hz));
  }

  @Override Steps.Interest interest() {
    return Steps.Interest.live(hz);
  }

  @Override void restart(int newCycle) {
    super.restart(newCycle);
    overview = Overview.DUE;   // the new cycle's history (what there is of it) comes first
    forget(0);
  }

  /** The overview being read holds steps 1..{@code last} of {@code c}; later ones come in buckets. */
  void loading(int c, long last) {
    overview = Overview.LOADING;
    cycle = c;
    forget(last);
  }

  /** The overview must be read again (it could not be sent): it will hold whatever was pending. */
  void overviewDue() {
    overview = Overview.DUE;
    forget(0);
  }

  /** Whether a bucket waits to go out. */
  boolean pending() {
    return bucket.pending();
  }

  private void forget(long through) {
    sentThrough = through;
    bucket.clear();
  }

  @Override boolean stepsOut(RunSummary s) {
    return overview == Overview.SENT && !bucket.pending();
  }

  /** Adds the steps of {@code f} this client has not had to the pending bucket. */
  void accumulate(Fanout f) {
    StepBatch b = f.batch;
    if (b.lastStep() <= sentThrough) return;
    int from = 0;
    while (b.step()[from] <= sentThrough) from++;
    if (!bucket.pending()) bucketFrom = sentThrough;
    if (from == 0) {
      bucket.add(b, 0, f.min, f.max);
    } else {
      int[] ext = BucketPoints.extremes(b, from);
      bucket.add(b, from, ext[0], ext[1]);
    }
    sentThrough = b.lastStep();
  }

  /**
   * The steps after {@code overviewLast} that the overview sent lacks and this client came in after ({@code tail},
   * downsampled keeping its extremes): they join the pending bucket, whose steps all come after them.
   */
  void prepend(long overviewLast, StepBatch tail) {
    bucket.addBefore(tail);
    bucketFrom = overviewLast;
    sentThrough = Math.max(sentThrough, tail.lastStep());
  }

  /** Whether a bucket waits and its interval has come: the wall clock entered a new one since the last went out. */
  boolean due(long now) {
    return bucket.pending() && now / intervalMs != lastSent / intervalMs;
  }

  /**
   * The pending bucket as a frame entry, which it leaves. Clients whose buckets cover the same steps of the
   * same run share one text: {@code written} keeps each one written this tick.
   */
  String take(Map<Object, Object> written, long now) {
    Key key = key();
    StepBatch points = takeBucket(written, now);   // not inside the computeIfAbsent below: a HashMap's may not nest
    return (String) written.computeIfAbsent(new Text(key), k -> Json.frameEntry(points));
  }

  /** The pending bucket as a batch (for a binary frame), which it leaves; shared as {@link #take}'s text is. */
  StepBatch takeBucket(Map<Object, Object> written, long now) {
    StepBatch points = (StepBatch) written.computeIfAbsent(key(), k -> bucket.take());
    bucket.clear();
    lastSent = now;
    return points;
  }

  /** The pending bucket's name: the same steps of the same run make the same points. */
  private Key key() {
    return new Key(run, cycle, bucketFrom, bucket.lastStep());
  }

  private record Key(String run, int cycle, long after, long last) {
  }

  /** The name of a bucket's JSON text. */
  private record Text(Key bucket) {
  }

  @Override boolean settled() {
    return introduced() && overview == Overview.SENT && !summaryWaiting();
  }
}
