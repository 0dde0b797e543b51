// RASP as raspc reads it: the reference REPL's statements and expressions (with its operator
// precedence, quirks included) plus raspc's compile directives. See docs in LANGUAGE.md.
grammar Rasp;

program
    : statement* EOF
    ;

// Directive alternatives come first: when a soft keyword such as `causal` could also start an
// expression statement, ANTLR resolves the ambiguity in favour of the earliest alternative.
statement
    : CAUSAL ';'                                                # causalStmt
    | VOCAB expr ';'                                            # vocabStmt
    | MAX_LEN expr ';'                                          # maxLenStmt
    | SET exampleKind? EXAMPLE expr ';'?                        # setExampleStmt
    | LOAD STRING ';'                                           # loadStmt
    | DEF name '(' names? ')' '{' statement* '}'                # defStmt
    | FOR names IN expr '{' statement* '}'                      # forStmt
    | RETURN exprs ';'                                          # returnStmt
    | names '=' exprs ';'                                       # assignStmt
    | expr ';'                                                  # exprStmt
    ;

// `set s-op example ...` and `set selector example ...` from the REPL; the word is checked by
// the AST builder, so that `s-op` need not be a token (it would break `s-op` as subtraction).
exampleKind
    : name ('-' name)?
    ;

names
    : name (',' name)*
    ;

exprs
    : expr (',' expr)*
    ;

// Alternatives are listed from the tightest binding to the loosest, as in the REPL; ANTLR makes
// binary operators left-associative, which gives the REPL's left-associative `^` and
// conditionals. Prefix operators bind tighter than `^`, so `-t ^ 2` is `(-t) ^ 2` and
// `not t == 2` is `(not t) == 2`.
expr
    : '(' expr ')'                                              # parenExpr
    | expr '[' expr ']'                                         # indexExpr
    | expr '(' (expr (',' expr)* ','?)? ')'                     # callExpr
    | op=(NOT | '-' | '+') expr                                 # unaryExpr
    | expr op='^' expr                                          # binaryExpr
    | expr op=('*' | '/') expr                                  # binaryExpr
    | expr op='%' expr                                          # binaryExpr
    | expr op=('+' | '-') expr                                  # binaryExpr
    | expr op=('==' | '!=' | '<' | '<=' | '>' | '>=') expr      # binaryExpr
    | SELECT '(' expr ',' expr ',' cmpOp ')'                    # selectExpr
    | expr op=(AND | OR) expr                                   # binaryExpr
    | expr IF expr ELSE expr                                    # condExpr
    | name                                                      # nameExpr
    | INT                                                       # intExpr
    | FLOAT                                                     # floatExpr
    | STRING                                                    # stringExpr
    | '[' (expr (',' expr)* ','?)? ']'                          # listExpr
    | '{' (dictEntry (',' dictEntry)* ','?)? '}'                # dictExpr
    | '[' expr FOR names IN expr ']'                            # listCompExpr
    | '{' expr ':' expr FOR names IN expr '}'                   # dictCompExpr
    | expr IN expr                                              # inExpr
    ;

dictEntry
    : expr ':' expr
    ;

cmpOp
    : '==' | '!=' | '<' | '<=' | '>' | '>='
    ;

// Words that are keywords only where a directive expects them; anywhere else they are ordinary
// names (a REPL program may well call a parameter `max_len`).
name
    : ID | VOCAB | MAX_LEN | CAUSAL | SET | EXAMPLE | LOAD
    ;

// Named so that the error reporter can ask for them.
SEMI    : ';';
EQ      : '==';
GE      : '>=';
DEF     : 'def';
RETURN  : 'return';
FOR     : 'for';
IN      : 'in';
IF      : 'if';
ELSE    : 'else';
AND     : 'and';
OR      : 'or';
NOT     : 'not';
SELECT  : 'select';
VOCAB   : 'vocab';
MAX_LEN : 'max_len';
CAUSAL  : 'causal';
SET     : 'set';
EXAMPLE : 'example';
LOAD    : 'load';

ID      : [a-zA-Z_] [a-zA-Z_0-9]*;
FLOAT   : [0-9]+ '.' [0-9]+;
INT     : [0-9]+;
// No escapes, as in the REPL: a string runs to the next double quote on the same line.
STRING  : '"' ~["\r\n]* '"';
// Reported by the parser wrapper, which then treats it as a string to avoid follow-on errors.
UNTERMINATED_STRING : '"' ~["\r\n]*;
COMMENT : '#' ~[\r\n]* -> skip;
WS      : [ \t\r\n\f]+ -> skip;
