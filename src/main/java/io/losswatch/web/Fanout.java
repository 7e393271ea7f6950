package io.losswatch.web;

import static io.losswatch.history.Downsample.greater;
import static io.losswatch.history.Downsample.less;

import io.losswatch.event.StepBatch;
import io.vertx.core.buffer.Buffer;

/**
 * One batch as every session sees it: where its extreme losses are, found once, and its all-mode messages,
 * each written once however many clients receive it, and only once a client has room for it: a batch of 20,000
 * steps is 20 JSON messages, and formatting doubles is the gateway's main cost, so a client that can take two now
 * costs two (the rest it reads from the history, off the event loop).
 */
final class Fanout {
  /** Steps per JSON message at most (about 70–100 kB), well under common clients' 256 kB message limit. */
  static final int MAX_STEPS_PER_MESSAGE = 1000;
  final StepBatch batch;
  final int min;
  final int max;
  private String[] texts;
  private Buffer[] binaries;

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

  /** Steps per message in {@code binary} format or JSON. */
  int perMessage(boolean binary) {
    return binary ? BinaryWire.stepsPerMessage(batch) : MAX_STEPS_PER_MESSAGE;
  }

  /** Messages the steps from index {@code from} on make. */
  int messages(int from, boolean binary) {
    int per = perMessage(binary);
    return (batch.size() - from + per - 1) / per;
  }

  /** The {@code k}th JSON message of the steps from index {@code from} on (written once when {@code from} is 0). */
  String text(int from, int k) {
    if (from > 0) return text(batch, from, k);
    if (texts == null) texts = new String[messages(0, false)];
    if (texts[k] == null) texts[k] = text(batch, 0, k);
    return texts[k];
  }

  /** The {@code k}th binary message of the steps from index {@code from} on (written once when {@code from} is 0). */
  Buffer binary(int from, int k) {
    if (from > 0) return binary(batch, from, k);
    if (binaries == null) binaries = new Buffer[messages(0, true)];
    if (binaries[k] == null) binaries[k] = binary(batch, 0, k);
    return binaries[k];
  }

  private static String text(StepBatch b, int from, int k) {
    int i = from + k * MAX_STEPS_PER_MESSAGE;
    return Json.steps(b, i, Math.min(b.size(), i + MAX_STEPS_PER_MESSAGE), true);
  }

  private static Buffer binary(StepBatch b, int from, int k) {
    int per = BinaryWire.stepsPerMessage(b);
    int i = from + k * per;
    return BinaryWire.steps(b, i, Math.min(b.size(), i + per));
  }
}
