package io.losswatch.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader and writer, so the core needs nothing beyond the JDK.
 *
 * <p>Objects become {@link LinkedHashMap} (key order kept, duplicate keys rejected), arrays {@link List},
 * numbers {@link Double}, plus {@link String}, {@link Boolean} and {@code null}.
 */
public final class Json extends JsonCursor {
  private Json(String s) {
    super(s);
  }

  /** Parses one JSON value; anything malformed is a {@link SpecException} on field "" saying where. */
  public static Object parse(String text) {
    if (text == null) throw new SpecException("", "invalid JSON: empty input");
    Json p = new Json(text);
    p.ws();
    Object v = p.value(0);
    p.ws();
    if (p.i != text.length()) throw p.error("unexpected trailing content");
    return v;
  }

  private Object value(int depth) {
    if (depth > 64) throw error("nesting deeper than 64");
    if (i >= s.length()) throw error("unexpected end of input");
    char c = s.charAt(i);
    switch (c) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string();
      case 't': return literal("true", Boolean.TRUE);
      case 'f': return literal("false", Boolean.FALSE);
      case 'n': return literal("null", null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        throw error("unexpected character '" + c + "'");
    }
  }

  private Map<String, Object> object(int depth) {
    Map<String, Object> m = new LinkedHashMap<>();
    i++;
    ws();
    if (peek('}')) { i++; return m; }
    while (true) {
      ws();
      if (!peek('"')) throw error("expected a string key");
      String k = string();
      ws();
      expect(':');
      ws();
      Object v = value(depth + 1);
      if (m.containsKey(k)) throw new SpecException(k, "duplicate key");
      m.put(k, v);
      ws();
      if (peek(',')) { i++; continue; }
      expect('}');
      return m;
    }
  }

  private List<Object> array(int depth) {
    List<Object> l = new ArrayList<>();
    i++;
    ws();
    if (peek(']')) { i++; return l; }
    while (true) {
      ws();
      l.add(value(depth + 1));
      ws();
      if (peek(',')) { i++; continue; }
      expect(']');
      return l;
    }
  }

  /**
   * A string. A {@code \\u} escape takes exactly four hex digits, and UTF-16 surrogates must come in pairs, high
   * then low, whether raw or escaped: a lone one is no character at all, and would break whoever reads the
   * text next (its UTF-8 encoding, a browser's JSON.parse of a JSON.stringify).
   */
  private String string() {
    StringBuilder b = new StringBuilder();
    i++;
    int highAt = -1;   // where an unpaired high surrogate started
    while (true) {
      if (i >= s.length()) throw error("unterminated string");
      int at = i;
      char c = s.charAt(i++);
      if (c == '"') {
        if (highAt >= 0) throw error("lone high surrogate", highAt);
        return b.toString();
      }
      if (c < 0x20) throw error("control character in string");
      if (c == '\\') c = escape();
      if (highAt >= 0 && !Character.isLowSurrogate(c)) throw error("lone high surrogate", highAt);
      if (highAt < 0 && Character.isLowSurrogate(c)) throw error("lone low surrogate", at);
      highAt = Character.isHighSurrogate(c) ? at : -1;
      b.append(c);
    }
  }

  /** The character an escape after its backslash stands for. */
  private char escape() {
    if (i >= s.length()) throw error("unterminated string");
    char e = s.charAt(i++);
    switch (e) {
      case '"': case '\\': case '/': return e;
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u':
        int v = 0;
        for (int k = 0; k < 4; k++) {
          int d = i + k < s.length() ? hex(s.charAt(i + k)) : -1;
          if (d < 0) throw error("bad \\u escape: needs exactly four hex digits", i - 2);
          v = v * 16 + d;
        }
        i += 4;
        return (char) v;
      default: throw error("bad escape '\\" + e + "'");
    }
  }

  /** An ASCII hex digit's value, else -1 (Character.digit would take other scripts' digits too). */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  private Double number() {
    return Double.parseDouble(s.substring(skipNumber(), i));
  }

  private Object literal(String word, Object v) {
    if (!s.startsWith(word, i)) throw error("unexpected token");
    i += word.length();
    return v;
  }

  public static String write(Object v) {
    StringBuilder b = new StringBuilder();
    write(b, v);
    return b.toString();
  }

  public static void write(StringBuilder b, Object v) {
    if (v == null) b.append("null");
    else if (v instanceof String str) quote(b, str);
    else if (v instanceof Boolean) b.append(v);
    else if (v instanceof Number n) number(b, n.doubleValue());
    else if (v instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) b.append(',');
        first = false;
        quote(b, String.valueOf(e.getKey()));
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof List<?> l) {
      b.append('[');
      for (int k = 0; k < l.size(); k++) {
        if (k > 0) b.append(',');
        write(b, l.get(k));
      }
      b.append(']');
    } else {
      quote(b, v.toString());
    }
  }

  /** Integral values print without a fraction; non-finite ones as the strings "NaN", "Infinity", "-Infinity". */
  public static void number(StringBuilder b, double d) {
    if (!Double.isFinite(d)) b.append('"').append(d).append('"');
    else b.append(Json.format(d));
  }

  /**
   * A double as a person typed it: {@code -1} rather than {@code -1.0}, every integer up to 2^53 in digits (no
   * {@code 9.007199254740992E15}); shortest round-trip otherwise.
   */
  public static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) <= 0x1p53) return Long.toString((long) d);
    return Double.toString(d);
  }

  public static void quote(StringBuilder b, String str) {
    b.append('"');
    for (int k = 0; k < str.length(); k++) {
      char c = str.charAt(k);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    b.append('"');
  }
}
