package io.losswatch.core.config;

/**
 * A position in a JSON text and the steps every strict reader of it takes: whitespace, one expected character, a
 * number's syntax, and an error that says where. {@link Json} reads values with it (the web layer reads appends
 * with jackson's streaming parser instead: the core stays JDK-only).
 */
public abstract class JsonCursor {
  protected final String s;
  protected int i;

  protected JsonCursor(String s) {
    this.s = s;
  }

  protected boolean peek(char c) {
    return i < s.length() && s.charAt(i) == c;
  }

  protected void expect(char c) {
    if (!peek(c)) throw error("expected '" + c + "'");
    i++;
  }

  protected void ws() {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n' || s.charAt(i) == '\r')) i++;
  }

  protected boolean digits() {
    int start = i;
    while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
    return i > start;
  }

  /** Steps over a JSON number, checking its syntax; returns where it started. */
  protected int skipNumber() {
    int start = i;
    if (peek('-')) i++;
    if (peek('0')) i++;
    else if (!digits()) throw error("bad number");
    if (peek('.')) {
      i++;
      if (!digits()) throw error("bad number");
    }
    if (peek('e') || peek('E')) {
      i++;
      if (peek('+') || peek('-')) i++;
      if (!digits()) throw error("bad number");
    }
    return start;
  }

  /** {@code what} went wrong here (at the end of the text: it ended too soon). */
  protected SpecException error(String what) {
    return error(i >= s.length() ? "unexpected end of input" : what, i);
  }

  protected static SpecException error(String what, int at) {
    return new SpecException("", "invalid JSON: " + what + " at offset " + at);
  }
}
