package io.losswatch.core;

import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a person says about a run: its tags (to find and group runs by) and its notes (what it tried, what it
 * showed). Given when the run is created ({@code "tags"}, {@code "notes"} in its spec) and changed while it lives
 * ({@code PATCH /api/runs/{id}}); kept in its spec, so in run.json, in every summary and in exports.
 *
 * @param tags distinct, trimmed, in the order given; at most {@link #MAX_TAGS} of at most {@link #MAX_TAG} characters
 * @param notes at most {@link #MAX_NOTES} characters; null for none
 */
public record Description(List<String> tags, String notes) {
  public static final int MAX_TAGS = 32;
  public static final int MAX_TAG = 64;
  public static final int MAX_NOTES = 4096;
  public static final Description NONE = new Description(List.of(), null);

  public Description {
    tags = List.copyOf(tags);
  }

  /** The tags and notes of a spec or a PATCH body, each optional; absent ones are {@code keep}'s. */
  static Description read(Options o, Description keep) {
    o.declare("tags", "strings", "at most " + MAX_TAGS + " tags of 1 to " + MAX_TAG + " characters");
    List<String> tags = o.has("tags") ? tags(o.raw("tags")) : keep.tags();
    o.declare("notes", "string", "at most " + MAX_NOTES + " characters");
    String notes = keep.notes();
    if (o.has("notes")) {
      if (!(o.raw("notes") instanceof String s)) throw o.fail("notes", "must be a string, got " + Options.describe(o.raw("notes")));
      if (s.codePointCount(0, s.length()) > MAX_NOTES) {
        throw o.fail("notes", "at most " + MAX_NOTES + " characters, got " + s.codePointCount(0, s.length()));
      }
      notes = s.isBlank() ? null : s;
    }
    return new Description(tags, notes);
  }

  /** A PATCH body, {@code {"tags": [...], "notes": "..."}}, either or both: the run's description after it. */
  public static Description patch(Object json, Description now) {
    if (!(json instanceof Map<?, ?> m) || m.isEmpty()) {
      throw new SpecException("", "a change of tags and notes: {\"tags\": [...], \"notes\": \"...\"}, got "
          + Options.describe(json));
    }
    Options o = Options.of("", json);
    Description d = read(o, now);
    o.done("a change of tags and notes (tags, notes)");
    return d;
  }

  private static List<String> tags(Object v) {
    if (!(v instanceof List<?> l)) throw new SpecException("tags", "must be an array of strings, got " + Options.describe(v));
    if (l.size() > MAX_TAGS) throw new SpecException("tags", "at most " + MAX_TAGS + " tags, got " + l.size());
    List<String> out = new ArrayList<>(l.size());
    for (int k = 0; k < l.size(); k++) {
      if (!(l.get(k) instanceof String s) || s.isBlank()) {
        throw new SpecException("tags[" + k + "]", "must be a non-empty string, got " + Options.describe(l.get(k)));
      }
      String t = s.strip();
      if (t.codePointCount(0, t.length()) > MAX_TAG) {
        throw new SpecException("tags[" + k + "]", "at most " + MAX_TAG + " characters, got " + t.codePointCount(0, t.length()));
      }
      if (t.chars().anyMatch(Character::isISOControl)) {
        throw new SpecException("tags[" + k + "]", "no control characters, got " + Options.describe(s));
      }
      if (!out.contains(t)) out.add(t);
    }
    return out;
  }

  /** This description in a spec's JSON tree (a copy): {@code tags} and {@code notes} set, or removed when empty. */
  Map<String, Object> into(Map<String, Object> json) {
    Map<String, Object> j = new java.util.LinkedHashMap<>(json);
    if (tags.isEmpty()) j.remove("tags"); else j.put("tags", tags);
    if (notes == null) j.remove("notes"); else j.put("notes", notes);
    return java.util.Collections.unmodifiableMap(j);
  }
}
