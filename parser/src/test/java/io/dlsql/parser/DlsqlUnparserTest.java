package io.dlsql.parser;

import org.apache.calcite.sql.parser.SqlParserFixture;

/**
 * {@link DlsqlParserTest} again, with Calcite's unparsing tester: every statement that parses is
 * also unparsed, re-parsed and unparsed again, and must come out the same, so dlsql's nodes
 * round-trip to SQL text.
 */
class DlsqlUnparserTest extends DlsqlParserTest {
  @Override
  public SqlParserFixture fixture() {
    return super.fixture().withTester(new UnparsingTesterImpl());
  }
}
