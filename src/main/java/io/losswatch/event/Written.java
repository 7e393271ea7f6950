package io.losswatch.event;

/**
 * The store's word to a run: its steps up to {@code upTo} are on disk. With a {@code fault} (the reason, as
 * the file system gave it), the steps after {@code upTo} could not be written; the store keeps them and tries
 * again until a plain {@code Written} says it caught up.
 */
public record Written(String run, long upTo, String fault) {
  public boolean failed() {
    return fault != null;
  }
}
