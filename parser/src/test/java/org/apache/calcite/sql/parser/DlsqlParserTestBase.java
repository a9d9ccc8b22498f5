package org.apache.calcite.sql.parser;

import io.dlsql.parser.impl.DlsqlParserImpl;

/**
 * Calcite's parser suite ({@link SqlParserTest}) pointed at dlsql's parser, with the few base
 * tests whose expectations no longer hold replaced.
 *
 * <p>It lives in Calcite's package because SqlParserTest's test methods are package-private, and
 * only a class in the same package can override one; dlsql's own parser tests extend this.
 */
public abstract class DlsqlParserTestBase extends SqlParserTest {
  @Override
  public SqlParserFixture fixture() {
    return super.fixture().withConfig(c -> c.withParserFactory(DlsqlParserImpl.FACTORY));
  }

  /**
   * Replaces the 1.41 testkit's version, which expects the token list of calcite-core 1.41. In
   * 1.42 a qualified interval may also be followed by ":" (the path access syntax of
   * CALCITE-7448), so the list in the message gains that entry; this is Calcite's change, not
   * dlsql's grammar.
   */
  @Override
  void testUnparseableIntervalQualifiers() {
    expr("interval '1' year ^to^ year")
        .fails(
            "(?s)Encountered \"to year\" at line 1, column 19.\n"
                + "Was expecting one of:\n"
                + "    <EOF> \n"
                + "    \"\\(\" \\.\\.\\.\n"
                + "    \":\" \\.\\.\\.\n"
                + "    \"\\.\" \\.\\.\\..*");
    expr("interval '1-2' year ^to^ day").fails("(?s)Encountered \"to day\" at line 1, column 21.*");
    expr("interval '1' day ^to^ year").fails("(?s)Encountered \"to year\" at line 1, column 18.*");
    expr("interval '1' second ^to^ minute")
        .fails("(?s)Encountered \"to minute\" at line 1, column 21.*");
  }
}
