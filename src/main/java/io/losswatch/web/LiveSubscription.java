package io.losswatch.web;

import static io.losswatch.history.Downsample.greater;
import static io.losswatch.history.Downsample.less;

import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
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
  private boolean pending;
  // the bucket: three points (min, max, last) and the last measured one (slot 3, when there is one), each a batch
  // (immutable, shared) and an index in it
  private final StepBatch[] from = new StepBatch[4];
  private final int[] at = new int[4];
  private boolean measuredPending;

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
    return pending;
  }

  private void forget(long through) {
    sentThrough = through;
    pending = false;
    measuredPending = false;
  }

  @Override boolean stepsOut(RunSummary s) {
    return overview == Overview.SENT && !pending;
  }

  /** Adds the steps of {@code f} this client has not had to the pending bucket. */
  void accumulate(Fanout f) {
    StepBatch b = f.batch;
    if (b.lastStep() <= sentThrough) return;
    int from = 0;
    while (b.step()[from] <= sentThrough) from++;
    int min = from == 0 ? f.min : from;
    int max = from == 0 ? f.max : from;
    if (from > 0) {
      for (int i = from; i < b.size(); i++) {
        if (less(b.loss()[i], b.loss()[min])) min = i;
        if (greater(b.loss()[i], b.loss()[max])) max = i;
      }
    }
    if (!pending) bucketFrom = sentThrough;
    if (!pending || less(b.loss()[min], loss(0))) put(0, b, min);
    if (!pending || greater(b.loss()[max], loss(1))) put(1, b, max);
    put(2, b, b.size() - 1);
    int m = b.lastMeasured();
    if (m >= from) {
      put(3, b, m);
      measuredPending = true;
    }
    pending = true;
    sentThrough = b.lastStep();
  }

  /**
   * The steps after {@code overviewLast} that the overview sent lacks and this client came in after ({@code tail},
   * downsampled keeping its extremes): they join the pending bucket, whose steps all come after them.
   */
  void prepend(long overviewLast, StepBatch tail) {
    int min = 0;
    int max = 0;
    for (int i = 1; i < tail.size(); i++) {
      if (less(tail.loss()[i], tail.loss()[min])) min = i;
      if (greater(tail.loss()[i], tail.loss()[max])) max = i;
    }
    if (!pending || less(tail.loss()[min], loss(0))) put(0, tail, min);
    if (!pending || greater(tail.loss()[max], loss(1))) put(1, tail, max);
    if (!pending) put(2, tail, tail.size() - 1);
    int m = tail.lastMeasured();
    if (m >= 0 && !measuredPending) {
      put(3, tail, m);
      measuredPending = true;
    }
    pending = true;
    bucketFrom = overviewLast;
    sentThrough = Math.max(sentThrough, tail.lastStep());
  }

  /** Whether a bucket waits and its interval has come: the wall clock entered a new one since the last went out. */
  boolean due(long now) {
    return pending && now / intervalMs != lastSent / intervalMs;
  }

  /**
   * The pending bucket as a frame entry, which it leaves. Clients whose buckets cover the same steps of the
   * same run share one text: {@code written} keeps each one written this tick.
   */
  String take(Map<Object, Object> written, long now) {
    Bucket key = new Bucket(run, cycle, bucketFrom, step(2));
    StepBatch bucket = bucket(written, key);   // not inside the computeIfAbsent below: a HashMap's may not nest
    String entry = (String) written.computeIfAbsent(new Text(key), k -> Json.frameEntry(bucket));
    pending = false;
    measuredPending = false;
    lastSent = now;
    return entry;
  }

  /** The pending bucket as a batch (for a binary frame), which it leaves; shared as {@link #take}'s text is. */
  StepBatch takeBucket(Map<Object, Object> written, long now) {
    StepBatch b = bucket(written, new Bucket(run, cycle, bucketFrom, step(2)));
    pending = false;
    measuredPending = false;   // as take's: the next bucket's measurement is its own
    lastSent = now;
    return b;
  }

  private StepBatch bucket(Map<Object, Object> written, Bucket key) {
    return (StepBatch) written.computeIfAbsent(key, k -> bucket());
  }

  /** A pending bucket's name: the same steps of the same run make the same entry. */
  private record Bucket(String run, int cycle, long after, long last) {
  }

  /** The name of a bucket's JSON text. */
  private record Text(Bucket bucket) {
  }

  @Override boolean settled() {
    return introduced() && overview == Overview.SENT && !summaryWaiting();
  }

  private StepBatch bucket() {
    int a = 0;
    int b = 1;
    int c = 2;
    if (step(a) > step(b)) { int x = a; a = b; b = x; }
    if (step(b) > step(c)) { int x = b; b = c; c = x; }
    if (step(a) > step(b)) { int x = a; a = b; b = x; }
    StepBatch.Builder out = new StepBatch.Builder(4);
    long prev = -1;
    boolean measured = measuredPending;
    for (int k : new int[] {a, b, c}) {
      if (step(k) == prev) continue;
      if (measured && step(3) < step(k)) {   // the measured point, in its place
        add(3, out);
        measured = false;
      }
      add(step(k) == (measured ? step(3) : -1) ? 3 : k, out);
      if (measured && step(3) == step(k)) measured = false;
      prev = step(k);
    }
    return out.build(run, cycle);
  }

  private void add(int slot, StepBatch.Builder out) {
    StepBatch src = from[slot];
    int i = at[slot];
    out.add(src.step()[i], src.loss()[i], src.lr()[i], src.gradNorm()[i], src.t()[i]);
    for (var e : src.metrics().entrySet()) out.metric(e.getKey(), e.getValue()[i]);
    if (src.hasCurvature()) out.curvature(src.sharpness()[i], src.stability()[i]);
  }

  private long step(int slot) {
    return from[slot].step()[at[slot]];
  }

  private double loss(int slot) {
    return from[slot].loss()[at[slot]];
  }

  private void put(int slot, StepBatch b, int i) {
    from[slot] = b;
    at[slot] = i;
  }
}
