package io.dlsql.jdbc;

import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.rel.type.RelDataTypeSystemImpl;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Calcite's type system with sums that do not overflow their argument type, as in PostgreSQL:
 * SUM and AVG of an exact decimal widen to the maximum precision, SUM of an integer type is
 * BIGINT; AVG of a decimal keeps at least six decimal places. Without it {@code AVG(CASE WHEN ... THEN 1.0 ELSE 0.0 END)} over a thousand rows fails
 * because the running sum is typed DECIMAL(2, 1).
 */
public final class DlsqlTypeSystem extends RelDataTypeSystemImpl {
  public static final DlsqlTypeSystem INSTANCE = new DlsqlTypeSystem();
  /** Decimal places an average of exact decimals keeps at least (an average of 0/1 flags is a fraction). */
  private static final int MIN_AVERAGE_SCALE = 6;

  private DlsqlTypeSystem() {}

  @Override
  public RelDataType deriveSumType(RelDataTypeFactory typeFactory, RelDataType argumentType) {
    return widen(typeFactory, argumentType);
  }

  @Override
  public RelDataType deriveAvgAggType(RelDataTypeFactory typeFactory, RelDataType argumentType) {
    if (argumentType.getSqlTypeName() == SqlTypeName.DECIMAL) {
      RelDataType avg = typeFactory.createSqlType(SqlTypeName.DECIMAL, getMaxNumericPrecision(),
          Math.max(argumentType.getScale(), MIN_AVERAGE_SCALE));
      return typeFactory.createTypeWithNullability(avg, argumentType.isNullable());
    }
    return super.deriveAvgAggType(typeFactory, argumentType);
  }

  private RelDataType widen(RelDataTypeFactory typeFactory, RelDataType argumentType) {
    RelDataType widened = switch (argumentType.getSqlTypeName()) {
      case TINYINT, SMALLINT, INTEGER, BIGINT -> typeFactory.createSqlType(SqlTypeName.BIGINT);
      case DECIMAL -> typeFactory.createSqlType(SqlTypeName.DECIMAL,
          getMaxNumericPrecision(), argumentType.getScale());
      default -> argumentType;
    };
    return typeFactory.createTypeWithNullability(widened, argumentType.isNullable());
  }
}
