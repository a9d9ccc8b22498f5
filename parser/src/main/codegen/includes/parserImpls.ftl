<#--
  dlsql's statements, types and table references, included into Calcite's Parser.jj.
  Productions named in config.fmpp are hooked into Calcite's SqlStmt, SqlCreate, SqlDrop and
  TypeName; DlsqlTableRef() is hooked into TableRef3 by the build (see parser/pom.xml).
  Actions are written in the Java subset JavaCC understands: no diamonds, lambdas or patterns.
-->

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Whether a token is a plain word (identifier or keyword, reserved or not), so that argument
 * and option names can be keywords such as METHOD or SCOPE without reserving anything. */
JAVACODE boolean dlsqlIsWord(Token t)
{
    if (t.kind == EOF || t.kind == TRUE || t.kind == FALSE || t.kind == NULL
        || t.kind == UNKNOWN) {
        return false;
    }
    final String image = t.image;
    if (image == null || image.isEmpty()) {
        return false;
    }
    if (!Character.isLetter(image.charAt(0))) {
        return false;
    }
    for (int i = 1; i < image.length(); i++) {
        final char c = image.charAt(i);
        if (!Character.isLetterOrDigit(c) && c != '_') {
            return false;
        }
    }
    return true;
}

/** Whether the next tokens start a named argument: a word followed by "=>", "=" or a value
 * (KERNEL 5, STUDENT small). A lone word (c2, int8) is a positional value, and so is
 * TENSOR(...). */
JAVACODE boolean dlsqlIsNamedArgumentStart()
{
    final Token name = getToken(1);
    final Token next = getToken(2);
    if (!dlsqlIsWord(name)) {
        return false;
    }
    if (name.kind == TENSOR && next.kind == LPAREN) {
        return false;
    }
    return next.kind != COMMA && next.kind != RPAREN;
}

JAVACODE SqlParserPos dlsqlPos(Token t)
{
    return new SqlParserPos(t.beginLine, t.beginColumn, t.endLine, t.endColumn);
}

/** Consumes a word (see dlsqlIsWord) used as an argument or option name. */
JAVACODE SqlIdentifier dlsqlWord(String what)
{
    final Token t = getToken(1);
    if (!dlsqlIsWord(t)) {
        throw SyntaxErrors.at(dlsqlPos(t),
            "Expected " + what + " but found '" + t.image + "'");
    }
    getNextToken();
    return new SqlIdentifier(t.image, dlsqlPos(t));
}

/** Rejects a second argument or option with the same name, pointing at the second one. */
JAVACODE void dlsqlCheckUniqueNames(List<SqlNode> nodes)
{
    final Set<String> seen = new HashSet<String>();
    for (SqlNode node : nodes) {
        if (node instanceof SqlNamedArgument) {
            final SqlNamedArgument argument = (SqlNamedArgument) node;
            if (!seen.add(argument.name())) {
                throw SyntaxErrors.at(argument.namePosition(),
                    "Duplicate argument '" + argument.name() + "'");
            }
        } else if (node instanceof SqlOption) {
            final SqlOption option = (SqlOption) node;
            if (!seen.add(option.key())) {
                throw SyntaxErrors.at(option.keyPosition(),
                    "Duplicate option '" + option.key() + "'");
            }
        }
    }
}

/** A positive int written as an unsigned integer literal (tensor dimension, class count). */
JAVACODE int dlsqlPositiveInt(Token t, String what)
{
    try {
        final int value = Integer.parseInt(t.image);
        if (value > 0) {
            return value;
        }
    } catch (NumberFormatException e) {
        // too large for an int: reported below like zero
    }
    throw SyntaxErrors.at(dlsqlPos(t),
        what + " must be a positive integer up to " + Integer.MAX_VALUE + ", not " + t.image);
}

/** [ IF NOT EXISTS ] */
boolean DlsqlIfNotExistsOpt() :
{
}
{
    LOOKAHEAD(3) <IF> <NOT> <EXISTS> { return true; }
|
    { return false; }
}

/** [ IF EXISTS ] */
boolean DlsqlIfExistsOpt() :
{
}
{
    LOOKAHEAD(2) <IF> <EXISTS> { return true; }
|
    { return false; }
}

/** The data a model statement reads: "(query)", "TABLE t" or "t". A table comes back as its
 * SqlIdentifier; the nodes turn it into SELECT * FROM t for the engine. */
SqlNode DlsqlDataSource() :
{
    final SqlNode e;
}
{
    (
        <LPAREN> e = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY) <RPAREN>
    |
        <TABLE> e = CompoundIdentifier()
    |
        e = CompoundIdentifier()
    )
    { return e; }
}

/** WITH ( key = literal [, key = literal ]* ) */
SqlNodeList DlsqlOptionList() :
{
    final Span s;
    final List<SqlNode> list = new ArrayList<SqlNode>();
}
{
    <WITH> { s = span(); }
    <LPAREN>
    DlsqlAddOption(list)
    ( <COMMA> DlsqlAddOption(list) )*
    <RPAREN>
    {
        dlsqlCheckUniqueNames(list);
        return new SqlNodeList(list, s.end(this));
    }
}

void DlsqlAddOption(List<SqlNode> list) :
{
    SqlIdentifier key;
    final SqlLiteral value;
}
{
    { key = dlsqlWord("an option name, as in WITH (epochs = 5),"); }
    <EQ>
    value = DlsqlOptionValue()
    {
        list.add(new SqlOption(key.getParserPosition().plus(value.getParserPosition()),
            key, value));
    }
}

/** An option value: a (signed) number, a string, TRUE or FALSE. */
SqlLiteral DlsqlOptionValue() :
{
    final SqlLiteral e;
    final String p;
}
{
    (
        e = NumericLiteral()
    |
        p = SimpleStringLiteral() { e = SqlLiteral.createCharString(p, getPos()); }
    |
        <TRUE> { e = SqlLiteral.createBoolean(true, getPos()); }
    |
        <FALSE> { e = SqlLiteral.createBoolean(false, getPos()); }
    )
    { return e; }
}

// ---------------------------------------------------------------------------------------------
// Values and argument lists (layers, architectures, compression methods)
// ---------------------------------------------------------------------------------------------

/** ( [ argument [, argument ]* ] ) where an argument is "value", "NAME value",
 * "name => value" or "name = value". */
SqlNodeList DlsqlArgumentList() :
{
    final Span s;
    final List<SqlNode> list = new ArrayList<SqlNode>();
}
{
    <LPAREN> { s = span(); }
    [
        LOOKAHEAD({ getToken(1).kind != RPAREN })
        DlsqlAddArgument(list)
        ( <COMMA> DlsqlAddArgument(list) )*
    ]
    <RPAREN>
    {
        dlsqlCheckUniqueNames(list);
        return new SqlNodeList(list, s.end(this));
    }
}

void DlsqlAddArgument(List<SqlNode> list) :
{
    SqlIdentifier name;
    SqlNode value;
}
{
    (
        LOOKAHEAD({ dlsqlIsNamedArgumentStart() })
        { name = dlsqlWord("an argument name"); }
        [ <NAMED_ARGUMENT_ASSIGNMENT> | <EQ> ]
        value = DlsqlValue()
        {
            list.add(new SqlNamedArgument(
                name.getParserPosition().plus(value.getParserPosition()), name, value));
        }
    |
        value = DlsqlValue() { list.add(value); }
    )
}

/** A value: (signed) number, string, TRUE/FALSE, TENSOR(...), identifier (a reference, such as
 * a layer alias), or a parenthesised tuple of values such as (3, 3). */
SqlNode DlsqlValue() :
{
    final SqlNode e;
    final String p;
    final SqlTypeNameSpec tensor;
    final Span s;
    final List<SqlNode> items = new ArrayList<SqlNode>();
    SqlNode item;
}
{
    (
        e = NumericLiteral()
    |
        p = SimpleStringLiteral() { e = SqlLiteral.createCharString(p, getPos()); }
    |
        <TRUE> { e = SqlLiteral.createBoolean(true, getPos()); }
    |
        <FALSE> { e = SqlLiteral.createBoolean(false, getPos()); }
    |
        LOOKAHEAD(2)
        tensor = SqlTensorTypeName() {
            e = new SqlDataTypeSpec(tensor, tensor.getParserPos());
        }
    |
        e = SimpleIdentifier()
    |
        <LPAREN> { s = span(); }
        item = DlsqlValue() { items.add(item); }
        ( <COMMA> item = DlsqlValue() { items.add(item); } )*
        <RPAREN> { e = new SqlNodeList(items, s.end(this)); }
    )
    { return e; }
}

/** TENSOR ( d1 [, d2 ]* ) [ UINT8 | FLOAT ] */
SqlTypeNameSpec SqlTensorTypeName() :
{
    final Span s;
    final List<Integer> dims = new ArrayList<Integer>();
    SqlTensorTypeNameSpec.ElementType elementType = SqlTensorTypeNameSpec.DEFAULT_ELEMENT_TYPE;
}
{
    <TENSOR> { s = span(); }
    <LPAREN>
    <UNSIGNED_INTEGER_LITERAL> { dims.add(dlsqlPositiveInt(token, "A tensor dimension")); }
    (
        <COMMA>
        <UNSIGNED_INTEGER_LITERAL> { dims.add(dlsqlPositiveInt(token, "A tensor dimension")); }
    )*
    <RPAREN>
    [
        <UINT8> { elementType = SqlTensorTypeNameSpec.ElementType.UINT8; }
    |
        <FLOAT> { elementType = SqlTensorTypeNameSpec.ElementType.FLOAT; }
    ]
    { return new SqlTensorTypeNameSpec(dims, elementType, s.end(this)); }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t ( (columns) [AS query] | AS query ) */
SqlCreate SqlCreateTable(Span s, boolean replace) :
{
    final boolean ifNotExists;
    final SqlIdentifier id;
    SqlNodeList columns = null;
    SqlNode query = null;
}
{
    <TABLE> ifNotExists = DlsqlIfNotExistsOpt() id = CompoundIdentifier()
    (
        columns = DlsqlColumnList()
        [ <AS> query = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY) ]
    |
        <AS> query = OrderedQueryOrExpr(ExprContext.ACCEPT_QUERY)
    )
    { return new SqlCreateTable(s.end(this), replace, ifNotExists, id, columns, query); }
}

SqlNodeList DlsqlColumnList() :
{
    final Span s;
    final List<SqlNode> list = new ArrayList<SqlNode>();
}
{
    <LPAREN> { s = span(); }
    DlsqlAddColumn(list)
    ( <COMMA> DlsqlAddColumn(list) )*
    <RPAREN>
    { return new SqlNodeList(list, s.end(this)); }
}

/** name type [ NOT NULL | NULL ] */
void DlsqlAddColumn(List<SqlNode> list) :
{
    final SqlIdentifier id;
    final SqlDataTypeSpec type;
    boolean nullable = true;
    final Span s;
}
{
    id = SimpleIdentifier() { s = span(); }
    type = DataType()
    [
        <NOT> <NULL> { nullable = false; }
    |
        <NULL> { nullable = true; }
    ]
    { list.add(new SqlColumnDeclaration(s.end(this), id, type, nullable)); }
}

/** DROP TABLE [IF EXISTS] t */
SqlDrop SqlDropTable(Span s, boolean replace) :
{
    final boolean ifExists;
    final SqlIdentifier id;
}
{
    <TABLE> ifExists = DlsqlIfExistsOpt() id = CompoundIdentifier()
    { return new SqlDropTable(s.end(this), ifExists, id); }
}

SqlNode SqlShow() :
{
    final Span s;
}
{
    <SHOW> { s = span(); }
    (
        <MODELS> { return new SqlShowModels(s.end(this)); }
    |
        <TABLES> { return new SqlShowTables(s.end(this)); }
    )
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/**
 * CREATE [OR REPLACE] MODEL [IF NOT EXISTS] m
 *   ( ( item [, item ]* ) | AS architecture [ INPUT name TENSOR(...) ]* )
 *   [ OUTPUT label ] [ CLASSES n ]
 * where an item is "INPUT name TENSOR(...)" or a layer.
 */
SqlCreate SqlCreateModel(Span s, boolean replace) :
{
    final boolean ifNotExists;
    final SqlIdentifier id;
    final List<SqlNode> inputs = new ArrayList<SqlNode>();
    final List<SqlNode> layers = new ArrayList<SqlNode>();
    SqlNodeList layerList = null;
    SqlArchitecture architecture = null;
    SqlIdentifier output = null;
    SqlNumericLiteral classes = null;
    final Span ls;
}
{
    <MODEL> ifNotExists = DlsqlIfNotExistsOpt() id = CompoundIdentifier()
    (
        <LPAREN> { ls = span(); }
        DlsqlAddModelItem(inputs, layers)
        ( <COMMA> DlsqlAddModelItem(inputs, layers) )*
        <RPAREN>
        {
            if (inputs.isEmpty()) {
                throw SyntaxErrors.at(ls.pos(), "CREATE MODEL needs at least one input item,"
                    + " such as INPUT image TENSOR(1, 28, 28)");
            }
            if (layers.isEmpty()) {
                throw SyntaxErrors.at(ls.pos(), "CREATE MODEL needs at least one layer");
            }
            layerList = new SqlNodeList(layers, ls.end(this));
        }
    |
        <AS> architecture = DlsqlArchitecture()
        ( DlsqlAddModelInput(inputs) )*
    )
    [ <OUTPUT> output = SimpleIdentifier() ]
    [
        <CLASSES> <UNSIGNED_INTEGER_LITERAL> {
            dlsqlPositiveInt(token, "CLASSES");
            classes = SqlLiteral.createExactNumeric(token.image, getPos());
        }
    ]
    {
        return new SqlCreateModel(s.end(this), replace, ifNotExists, id,
            new SqlNodeList(inputs, id.getParserPosition()), layerList, architecture, output,
            classes);
    }
}

void DlsqlAddModelItem(List<SqlNode> inputs, List<SqlNode> layers) :
{
}
{
    LOOKAHEAD(2) DlsqlAddModelInput(inputs)
|
    DlsqlAddLayer(layers)
}

/** INPUT name TENSOR(...) */
void DlsqlAddModelInput(List<SqlNode> inputs) :
{
    final Span s;
    final SqlIdentifier name;
    final SqlTypeNameSpec type;
}
{
    <INPUT> { s = span(); }
    name = SimpleIdentifier()
    type = SqlTensorTypeName()
    { inputs.add(new SqlModelInput(s.end(this), name, (SqlTensorTypeNameSpec) type)); }
}

/** kind [ ( arguments ) ] [ AS alias ] */
void DlsqlAddLayer(List<SqlNode> layers) :
{
    final SqlIdentifier kind;
    final Span s;
    SqlNodeList args = null;
    SqlIdentifier alias = null;
}
{
    kind = SimpleIdentifier() { s = span(); }
    [ args = DlsqlArgumentList() ]
    [ <AS> alias = SimpleIdentifier() ]
    { layers.add(new SqlLayer(s.end(this), kind, args, alias)); }
}

/** name [ ( arguments ) ], e.g. RESNET(depth => 20, width => 2) */
SqlArchitecture DlsqlArchitecture() :
{
    final SqlIdentifier name;
    final Span s;
    SqlNodeList args = null;
}
{
    name = SimpleIdentifier() { s = span(); }
    [ args = DlsqlArgumentList() ]
    { return new SqlArchitecture(s.end(this), name, args); }
}

/** DROP MODEL [IF EXISTS] m [CASCADE] */
SqlDrop SqlDropModel(Span s, boolean replace) :
{
    final boolean ifExists;
    final SqlIdentifier id;
    boolean cascade = false;
}
{
    <MODEL> ifExists = DlsqlIfExistsOpt() id = CompoundIdentifier()
    [ <CASCADE> { cascade = true; } ]
    { return new SqlDropModel(s.end(this), ifExists, id, cascade); }
}

/** TRAIN MODEL m ON data [ WITH ( options ) ] */
SqlNode SqlTrainModel() :
{
    final Span s;
    final SqlIdentifier model;
    final SqlNode source;
    SqlNodeList withOptions = SqlNodeList.EMPTY;
}
{
    <TRAIN> { s = span(); } <MODEL> model = CompoundIdentifier()
    <ON> source = DlsqlDataSource()
    [ withOptions = DlsqlOptionList() ]
    { return new SqlTrainModel(s.end(this), model, source, withOptions); }
}

/** EVALUATE MODEL m ON data [ WITH ( options ) ] */
SqlNode SqlEvaluateModel() :
{
    final Span s;
    final SqlIdentifier model;
    final SqlNode source;
    SqlNodeList withOptions = SqlNodeList.EMPTY;
}
{
    <EVALUATE> { s = span(); } <MODEL> model = CompoundIdentifier()
    <ON> source = DlsqlDataSource()
    [ withOptions = DlsqlOptionList() ]
    { return new SqlEvaluateModel(s.end(this), model, source, withOptions); }
}

/** PREDICT ( MODEL m , data ) */
SqlPredict SqlPredict() :
{
    final Span s;
    final SqlIdentifier model;
    final SqlNode input;
}
{
    <PREDICT> { s = span(); }
    <LPAREN> <MODEL> model = CompoundIdentifier()
    <COMMA> input = DlsqlDataSource()
    <RPAREN>
    { return new SqlPredict(s.end(this), model, input); }
}

/** Table references added to Calcite's TableRef3, tried before its identifier alternative
 * under LOOKAHEAD(3); alias, column aliases and TABLESAMPLE are then handled by TableRef3. */
SqlNode DlsqlTableRef() :
{
    final SqlNode e;
}
{
    e = SqlPredict() { return e; }
}

/** DESCRIBE MODEL m */
SqlNode SqlDescribeModel() :
{
    final Span s;
    final SqlIdentifier model;
}
{
    <DESCRIBE> { s = span(); } <MODEL> model = CompoundIdentifier()
    { return new SqlDescribeModel(s.end(this), model); }
}

/**
 * COMPRESS MODEL m INTO m2 USING method [ ( arguments ) ]
 *   [ CALIBRATE ON data ] [ FINETUNE ON data ] [ ON data ] [ WITH ( options ) ]
 */
SqlNode SqlCompressModel() :
{
    final Span s;
    final SqlIdentifier model;
    final SqlIdentifier target;
    final SqlIdentifier methodName;
    final Span ms;
    SqlNodeList methodArgs = null;
    final SqlCompressionMethod method;
    SqlNode calibration = null;
    SqlNode finetuning = null;
    SqlNode training = null;
    SqlNodeList withOptions = SqlNodeList.EMPTY;
}
{
    <COMPRESS> { s = span(); } <MODEL> model = CompoundIdentifier()
    <INTO> target = CompoundIdentifier()
    <USING> methodName = SimpleIdentifier() { ms = span(); }
    [ methodArgs = DlsqlArgumentList() ]
    { method = new SqlCompressionMethod(ms.end(this), methodName, methodArgs); }
    [ <CALIBRATE> <ON> calibration = DlsqlDataSource() ]
    [ <FINETUNE> <ON> finetuning = DlsqlDataSource() ]
    [ <ON> training = DlsqlDataSource() ]
    [ withOptions = DlsqlOptionList() ]
    {
        return new SqlCompressModel(s.end(this), model, target, method,
            calibration, finetuning, training, withOptions);
    }
}

/** ANALYZE MODEL m [ WITH ( options ) ] */
SqlNode SqlAnalyzeModel() :
{
    final Span s;
    final SqlIdentifier model;
    SqlNodeList withOptions = SqlNodeList.EMPTY;
}
{
    <ANALYZE> { s = span(); } <MODEL> model = CompoundIdentifier()
    [ withOptions = DlsqlOptionList() ]
    { return new SqlAnalyzeModel(s.end(this), model, withOptions); }
}

/** EXPLAIN [ ANALYZE ] ( TRAIN MODEL ... | EVALUATE MODEL ... | PREDICT(...) ) */
SqlNode SqlExplainModel() :
{
    final Span s;
    boolean analyze = false;
    final SqlNode statement;
}
{
    <EXPLAIN> { s = span(); }
    [ <ANALYZE> { analyze = true; } ]
    (
        statement = SqlTrainModel()
    |
        statement = SqlEvaluateModel()
    |
        statement = SqlPredict()
    )
    { return new SqlExplainModel(s.end(this), analyze, statement); }
}
