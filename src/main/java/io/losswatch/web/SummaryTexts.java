package io.losswatch.web;

import io.losswatch.event.RunSummary;
import java.util.HashMap;
import java.util.Map;

/**
 * Each run's summary as the message that introduces it to a client, written once for every session of a gateway
 * while the summary stays the same: a thousand clients subscribing to "*" at once (every page after a restart) cost
 * one writing of each summary, not a thousand. Touched on the gateway's event loop only.
 */
final class SummaryTexts {
  private record Written(RunSummary summary, String text) {
  }

  private final Map<String, Written> latest = new HashMap<>();

  /** The message of {@code s}, written now unless it was for this very summary. */
  String of(RunSummary s) {
    Written w = latest.get(s.id());
    if (w == null || w.summary != s) {
      w = new Written(s, Json.runMessage(s));
      latest.put(s.id(), w);
    }
    return w.text;
  }

  /** The run is gone. */
  void forget(String run) {
    latest.remove(run);
  }
}
