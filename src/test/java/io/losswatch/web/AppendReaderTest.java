package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.SpecException;
import io.losswatch.event.Append;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An append's body read strictly into columns: every value exact, every refusal naming its field. */
class AppendReaderTest {
  private static Append read(String body) {
    return AppendReader.read("r", body, 77);
  }

  private static SpecException refused(String body) {
    return assertThrows(SpecException.class, () -> read(body), body);
  }

  @Test
  void columnsReadExactlyWithTheirNonFiniteValues() {
    Append a = read(" {\"step\":[1,2,3,4],\"loss\":[2.302585092994046,\"NaN\",null,1e-320],\"lr\":[0.001,0.001,\"Infinity\","
        + "0],\"metrics\":{\"val.acc\":[0.5,1,0.25,0.125]},\"acks\":[{\"id\":\"c1\",\"step\":3}],\"t\":[5,6,7,8]} ");
    assertArrayEquals(new long[] {1, 2, 3, 4}, a.steps().step());
    assertArrayEquals(new double[] {2.302585092994046, Double.NaN, Double.NaN, 1e-320}, a.steps().loss());
    assertArrayEquals(new double[] {0.001, 0.001, Double.POSITIVE_INFINITY, 0}, a.steps().lr());
    assertTrue(Double.isNaN(a.steps().gradNorm()[0]), "a column not sent is NaN");
    assertArrayEquals(new long[] {5, 6, 7, 8}, a.steps().t());
    assertArrayEquals(new double[] {0.5, 1, 0.25, 0.125}, a.steps().metrics().get("val.acc"));
    assertEquals(List.of(new Append.Ack("c1", 3)), a.acks());
    assertArrayEquals(new long[] {77, 77}, read("{\"step\":[1,2],\"loss\":[1,1]}").steps().t(), "no times: now");
    assertEquals(0, read("{}").steps().size());
  }

  /** A script's curvature fills the steps' typed columns (as a built-in run's), never its metrics. */
  @Test
  void curvatureColumnsAreTheStepsOwn() {
    Append a = read("{\"step\":[1,2,3],\"loss\":[1,1,1],\"sharpness\":[null,null,3800],\"stability\":[null,null,0.1],"
        + "\"curvature\":{\"preconditioned\":true,\"threshold\":38}}");
    assertArrayEquals(new double[] {Double.NaN, Double.NaN, 3800}, a.steps().sharpness());
    assertArrayEquals(new double[] {Double.NaN, Double.NaN, 0.1}, a.steps().stability());
    assertTrue(a.steps().metrics().isEmpty(), "no metric named sharpness or stability");
    assertEquals(new Append.Curvature(true, 38), a.curvature());
    Append none = read("{\"step\":[1,2],\"loss\":[1,1],\"sharpness\":[null,null]}");
    assertTrue(!none.steps().hasCurvature(), "nothing measured: no columns");
    Append half = read("{\"step\":[1],\"loss\":[1],\"sharpness\":[5]}");
    assertArrayEquals(new double[] {Double.NaN}, half.steps().stability(), "the column not sent is NaN");
  }

  @Test
  void badValuesAreRefusedNamingTheField() {
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    for (String[] kv : new String[][] {
        {"{\"step\":[2,\"x\"],\"loss\":[1,1]}", "step[1]"},
        {"{\"step\":[1.5],\"loss\":[1]}", "step[0]"},
        {"{\"step\":[9007199254740993],\"loss\":[1]}", "step[0]"},
        {"{\"step\":[2],\"loss\":[\"lots\"]}", "loss[0]"},
        {"{\"step\":[2],\"loss\":[[1]]}", "loss[0]"},
        {"{\"step\":[2],\"loss\":1}", "loss"},
        {"{\"step\":[2],\"loss\":[1],\"metrics\":{\"9bad\":[1]}}", "metrics.9bad"},
        {"{\"step\":[2],\"loss\":[1],\"step\":[3]}", "step"},
        {"{\"acks\":[{\"id\":\"c1\",\"step\":-1}]}", "acks[0].step"},
        {"{\"step\":[2],\"t\":[8.0],\"loss\":[1]}", "t[0]"},
        {"{\"acks\":[{\"id\":7,\"step\":1}]}", "acks[0].id"},
        {"{\"step\":[2],\"loss\":[1],\"metrics\":{\"sharpness\":[1]}}", "metrics.sharpness"},
        {"{\"step\":[2],\"loss\":[1],\"sharpness\":[1,2]}", "sharpness"}}) bad.put(kv[0], kv[1]);
    for (var e : bad.entrySet()) assertEquals(e.getValue(), refused(e.getKey()).field(), e.getKey());
    assertEquals("step[0]: must be an integer from 1 to 9007199254740992 (2^53), written with digits only, got 1.5", refused("{\"step\":[1.5],\"loss\":[1]}").getMessage());
    assertEquals("loss[0]: must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got \"lots\"",
        refused("{\"step\":[2],\"loss\":[\"lots\"]}").getMessage());
    assertEquals("an append must be a JSON object", refused("[1,2]").getMessage().replaceFirst("^: ", ""));
  }

  @Test
  void malformedJsonSaysWhere() {
    for (String body : List.of("{\"step\":[1,]}", "{\"step\":[NaN]}", "{\"loss\":[1]", "{\"step\":[1]} x",
        "{\"step\":[1]} {}", "{'step':[1]}", "{\"acks\":[{\"id\":\"\\uD800\",\"step\":1}]}", "{\"acks\":[{\"id\":\"\\u12\",\"step\":1}]}",
        "{\"acks\":[{\"id\":\"a\u0001\",\"step\":1}]}")) {
      SpecException e = refused(body);
      assertTrue(e.getMessage().matches("(?s).*(invalid JSON|must be|expected|unexpected|at offset).*"), body + " → " + e.getMessage());
    }
  }
}
