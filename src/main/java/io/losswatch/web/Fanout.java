package io.losswatch.web;

import static io.losswatch.history.Downsample.greater;
import static io.losswatch.history.Downsample.less;

import io.losswatch.event.StepBatch;

/**
 * One batch as every session sees it: where its extreme losses are, found once, and its all-mode messages,
 * written once however many clients receive them (formatting doubles is the gateway's main cost).
 */
final class Fanout {
  /** Steps per message at most (about 100 kB), well under common clients' 256 kB message limit. */
  static final int MAX_STEPS_PER_MESSAGE = 1000;
  final StepBatch batch;
  final int min;
  final int max;
  private String[] messages;

  Fanout(StepBatch batch) {
    this.batch = batch;
    int lo = 0;
    int hi = 0;
    for (int i = 1; i < batch.size(); i++) {
      if (less(batch.loss()[i], batch.loss()[lo])) lo = i;
      if (greater(batch.loss()[i], batch.loss()[hi])) hi = i;
    }
    min = lo;
    max = hi;
  }

  /** The whole batch as steps messages. */
  String[] messages() {
    if (messages == null) messages = messages(batch, 0);
    return messages;
  }

  /** Steps from index {@code from} on, as steps messages of at most {@link #MAX_STEPS_PER_MESSAGE} steps. */
  static String[] messages(StepBatch b, int from) {
    int n = (b.size() - from + MAX_STEPS_PER_MESSAGE - 1) / MAX_STEPS_PER_MESSAGE;
    String[] out = new String[n];
    for (int k = 0; k < n; k++) {
      int i = from + k * MAX_STEPS_PER_MESSAGE;
      out[k] = Json.steps(b, i, Math.min(b.size(), i + MAX_STEPS_PER_MESSAGE), true);
    }
    return out;
  }
}
