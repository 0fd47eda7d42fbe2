// Syntax tree of the query language (D.1). Chains of AND / OR and of + - / * / % are n-ary
// so that a long flat condition (`a OR b OR c ...`) never produces a deep tree: only real
// nesting (parentheses, NOT, unary minus, calls) adds depth, and that is capped (MAX_NESTING).

export type Collection = 'devices' | 'devices.modules' | 'devices.jobs'

export type Literal = string | number | boolean | null | undefined

export interface PathSegment {
  name: string
  /** Written as `[[name]]` (D.1 escaped name). */
  escaped: boolean
}

export interface PathExpr {
  kind: 'path'
  segments: PathSegment[]
  /** 0-based offset in the query text, for error messages. */
  start: number
}

export interface LiteralExpr { kind: 'literal'; value: Literal }

/** Array literal (`[1, 'a']`): elements are literals only (D.1 arrayLit). */
export interface ArrayExpr { kind: 'array'; items: Literal[] }

export interface NotExpr { kind: 'not'; operand: Expr }
export interface NegExpr { kind: 'neg'; operand: Expr }

export interface LogicalExpr { kind: 'and' | 'or'; operands: Expr[] }

export type ArithOp = '+' | '-' | '*' | '/' | '%'
/** `first op1 rest1 op2 rest2 ...`, left-associative, one precedence level. */
export interface ArithExpr { kind: 'arith'; first: Expr; rest: Array<{ op: ArithOp; operand: Expr }> }

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>='
export interface CompareExpr { kind: 'compare'; op: CompareOp; left: Expr; right: Expr }

export interface InExpr { kind: 'in'; negated: boolean; operand: Expr; items: Literal[] }

export interface CallExpr {
  kind: 'call'
  /** Upper-cased function name (names are case-insensitive). */
  name: string
  args: Expr[]
}

export type Expr = PathExpr | LiteralExpr | ArrayExpr | NotExpr | NegExpr | LogicalExpr | ArithExpr | CompareExpr | InExpr | CallExpr

export type AggregateFn = 'COUNT' | 'AVG' | 'SUM' | 'MIN' | 'MAX'

export type SelectItem =
  | { kind: 'path'; path: PathExpr; alias: string | undefined }
  | { kind: 'aggregate'; fn: AggregateFn; path: PathExpr | undefined; alias: string | undefined; start: number }

export interface Query {
  /** TOP n, when given. */
  top: number | undefined
  /** `*` or the projection list. */
  select: '*' | SelectItem[]
  from: Collection
  where: Expr | undefined
  groupBy: PathExpr[]
  /** The query text, for error messages raised after parsing. */
  text: string
}

/**
 * A bare condition (job queryCondition, configuration targetCondition; D.3 #21, F):
 * `where` undefined means "all" (`*` or `FROM devices.modules` without WHERE).
 */
export interface Condition {
  from: 'devices' | 'devices.modules'
  where: Expr | undefined
  text: string
}
