//! `check`'s argument types: a literal passed where the registered function
//! (its Rhai metadata) takes another type, and an options map literal with a
//! key the function does not know or a value of the wrong type. Only what is
//! certain without running is reported: an argument that is not a literal
//! can hold anything, so it matches every parameter.

use rhai::{Dynamic, Expr, Position};

/// The type of a literal, by Rhai's name for it (`type_of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    Int,
    Float,
    String,
    Bool,
    Char,
    Unit,
    Array,
    Map,
}

impl Literal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Float => "float",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Char => "char",
            Self::Unit => "()",
            Self::Array => "array",
            Self::Map => "map",
        }
    }

    /// The literal type of `expr`, when it is one.
    pub fn of(expr: &Expr) -> Option<Self> {
        Some(match expr {
            Expr::IntegerConstant(..) => Self::Int,
            Expr::FloatConstant(..) => Self::Float,
            Expr::StringConstant(..) | Expr::InterpolatedString(..) => Self::String,
            Expr::BoolConstant(..) => Self::Bool,
            Expr::CharConstant(..) => Self::Char,
            Expr::Unit(..) => Self::Unit,
            Expr::Array(..) => Self::Array,
            Expr::Map(..) => Self::Map,
            Expr::DynamicConstant(d, ..) => return Self::of_value(d),
            _ => return None,
        })
    }

    /// The type of a constant the compiler folded (`[1, 2]`, `#{a: 1}`).
    pub fn of_value(d: &Dynamic) -> Option<Self> {
        Some(if d.is_int() {
            Self::Int
        } else if d.is_float() {
            Self::Float
        } else if d.is_string() {
            Self::String
        } else if d.is_bool() {
            Self::Bool
        } else if d.is_char() {
            Self::Char
        } else if d.is_unit() {
            Self::Unit
        } else if d.is_array() {
            Self::Array
        } else if d.is_map() {
            Self::Map
        } else {
            return None;
        })
    }
}

/// One parameter type as the catalog spells it (`String`, `Map`, `int`,
/// `any`, `Token or String`, `String, Token or Array`): whether a literal of
/// type `lit` can be passed there.
fn accepts(param_type: &str, lit: Literal) -> bool {
    alternatives(param_type).any(|t| t == "any" || t == lit.name())
}

/// The alternatives of a catalog type in Rhai's names: `Token or String` →
/// `Token`, `string`.
fn alternatives(param_type: &str) -> impl Iterator<Item = &'static str> + '_ {
    param_type
        .split(" or ")
        .flat_map(|p| p.split(", "))
        .map(|t| match t.trim().trim_start_matches("&mut ") {
            "String" | "string" | "&str" | "ImmutableString" => "string",
            "Map" | "map" => "map",
            "Array" | "array" => "array",
            "int" | "INT" | "i64" => "int",
            "float" | "FLOAT" | "f64" => "float",
            "bool" => "bool",
            "char" => "char",
            "()" => "()",
            "any" | "Dynamic" | "?" => "any",
            // A type no literal has (Token, Duration, Fn, Blob, …).
            _ => "",
        })
}

/// A catalog type as a message shows it: `Map` → `map`, `Token or String` →
/// `Token or string`.
fn shown(param_type: &str) -> String {
    let words: Vec<String> = param_type
        .split(" or ")
        .flat_map(|p| p.split(", "))
        .map(|t| {
            let t = t.trim().trim_start_matches("&mut ");
            crate::script::typenames::script_type_names(match t {
                "String" => "string",
                "Map" => "map",
                "Array" => "array",
                "Blob" => "blob",
                "INT" => "int",
                "FLOAT" => "float",
                other => other,
            })
        })
        .collect();
    join_or(&words)
}

fn join_or(words: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::new();
    for w in words {
        if !unique.contains(&w) {
            unique.push(w);
        }
    }
    match unique.as_slice() {
        [] => String::new(),
        [one] => (*one).clone(),
        [init @ .., last] => format!(
            "{} or {last}",
            init.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The type of a parameter: `options: Map` → `Map`.
fn param_type(p: &str) -> &str {
    p.split_once(": ").map_or(p, |(_, t)| t)
}

/// Why no overload of `function` can take `args` (literal types, `None` for
/// an argument whose type is unknown), given each overload's parameters of
/// the same count; `None` when one can.
pub fn mismatch(
    function: &str,
    args: &[Option<Literal>],
    overloads: &[&[String]],
) -> Option<String> {
    if overloads.is_empty() {
        return None;
    }
    // For each overload, the first argument it cannot take.
    let mut first_bad = Vec::with_capacity(overloads.len());
    for params in overloads {
        let bad = args
            .iter()
            .zip(params.iter())
            .position(|(a, p)| a.is_some_and(|lit| !accepts(param_type(p), lit)));
        match bad {
            None => return None,
            Some(i) => first_bad.push(i),
        }
    }
    let i = first_bad[0];
    let lit = args[i].map_or("?", Literal::name);
    if first_bad.iter().all(|b| *b == i) {
        let expected: Vec<String> = overloads.iter().map(|p| shown(param_type(&p[i]))).collect();
        return Some(format!(
            "type mismatch: {function} takes {} as argument {}, not {lit}",
            join_or(&expected),
            i + 1
        ));
    }
    let given: Vec<&str> = args.iter().map(|a| a.map_or("?", Literal::name)).collect();
    let takes: Vec<String> = overloads
        .iter()
        .map(|ps| {
            let types: Vec<String> = ps.iter().map(|p| shown(param_type(p))).collect();
            format!("({})", types.join(", "))
        })
        .collect();
    Some(format!(
        "type mismatch: {function}({}) matches no form of it; it takes {}",
        given.join(", "),
        takes.join(" or ")
    ))
}

/// The keys of an options map a function reads, and the literal types each
/// accepts (`()` means "the default" wherever the function allows it).
struct OptionsSchema {
    function: &'static str,
    /// Which argument (0-based) is the options map.
    arg: usize,
    /// The argument count of the form that takes it.
    argc: usize,
    keys: &'static [(&'static str, &'static [Literal])],
}

use Literal as L;

/// Durations are strings (`"1h"`) or `Duration` values, timestamps strings
/// or `Timestamp` values: only their literal forms appear here.
const SCHEMAS: &[OptionsSchema] = &[
    // src/script/api/token_options.rs
    OptionsSchema {
        function: "token::create",
        arg: 0,
        argc: 1,
        keys: &[
            ("ttl", &[L::String, L::Unit]),
            ("expires", &[L::String, L::Unit]),
            ("usages", &[L::Array, L::String, L::Unit]),
            ("groups", &[L::Array, L::String, L::Unit]),
            ("description", &[L::String, L::Unit]),
        ],
    },
    OptionsSchema {
        function: "token::create",
        arg: 1,
        argc: 2,
        keys: &[
            ("ttl", &[L::String, L::Unit]),
            ("expires", &[L::String, L::Unit]),
            ("usages", &[L::Array, L::String, L::Unit]),
            ("groups", &[L::Array, L::String, L::Unit]),
            ("description", &[L::String, L::Unit]),
        ],
    },
    // src/script/api/token_meta.rs, `ListFilter`
    OptionsSchema {
        function: "token::list",
        arg: 0,
        argc: 1,
        keys: &[
            ("rotation", &[L::String, L::Unit]),
            ("description", &[L::String, L::Unit]),
            ("expiring_within", &[L::String, L::Unit]),
            ("published", &[L::Bool, L::Unit]),
            ("expired", &[L::Bool, L::Unit]),
        ],
    },
    // src/script/api/rotate.rs (`name` and `report_only` are read first, any type)
    OptionsSchema {
        function: "token::rotate",
        arg: 0,
        argc: 1,
        keys: &[
            ("name", &[L::String, L::Unit]),
            ("ttl", &[L::String, L::Unit]),
            ("description", &[L::String, L::Unit]),
            ("usages", &[L::Array, L::String, L::Unit]),
            ("groups", &[L::Array, L::String, L::Unit]),
            ("keep", &[L::Int, L::Unit]),
            ("publish", &[L::Array, L::Unit]),
            ("verify", &[L::Bool, L::String, L::Unit]),
            ("certificate_key", &[L::String, L::Unit]),
            ("report_only", &[L::Bool, L::Unit]),
        ],
    },
    // src/script/api/join.rs, `join_options`
    OptionsSchema {
        function: "join::command",
        arg: 1,
        argc: 2,
        keys: &[
            ("control_plane", &[L::Bool]),
            ("certificate_key", &[L::String, L::Unit]),
        ],
    },
    OptionsSchema {
        function: "join::verify",
        arg: 1,
        argc: 2,
        keys: &[
            ("control_plane", &[L::Bool]),
            ("certificate_key", &[L::String, L::Unit]),
            ("wait", &[L::String, L::Unit]),
        ],
    },
];

/// Problems with the literal options map `map` passed as argument `arg` of
/// `argc` to `function`: unknown keys, and values of a type the function refuses.
pub fn option_problems(
    function: &str,
    arg: usize,
    argc: usize,
    map: &Expr,
) -> Vec<(Position, String)> {
    let Some(schema) = SCHEMAS
        .iter()
        .find(|s| s.function == function && s.arg == arg && s.argc == argc)
    else {
        return Vec::new();
    };
    // (key, its position, the value's literal type, the value's position)
    let entries: Vec<(String, Position, Option<Literal>, Position)> = match map {
        Expr::Map(x, pos) => {
            x.0.iter()
                .map(|(k, v)| {
                    let at = if v.position().is_none() {
                        *pos
                    } else {
                        v.position()
                    };
                    (k.name.to_string(), k.pos, Literal::of(v), at)
                })
                .collect()
        }
        Expr::DynamicConstant(d, pos) => match d.read_lock::<rhai::Map>() {
            Some(m) => m
                .iter()
                .map(|(k, v)| (k.to_string(), *pos, Literal::of_value(v), *pos))
                .collect(),
            None => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    let accepted = || {
        schema
            .keys
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut problems = Vec::new();
    for (key, key_pos, lit, value_pos) in entries {
        match schema.keys.iter().find(|(k, _)| *k == key) {
            None => problems.push((
                key_pos,
                format!(
                    "{function}: unknown option {key:?} (accepted: {})",
                    accepted()
                ),
            )),
            Some((_, types)) => {
                if let Some(lit) = lit.filter(|l| !types.contains(l)) {
                    let mut names: Vec<String> = types
                        .iter()
                        .filter(|t| **t != L::Unit)
                        .map(|t| t.name().to_owned())
                        .collect();
                    // The value types no literal has.
                    match key.as_str() {
                        "ttl" | "expiring_within" | "wait" => names.push("Duration".to_owned()),
                        "verify" => names.push("Duration".to_owned()),
                        "expires" => names.push("Timestamp".to_owned()),
                        _ => {}
                    }
                    problems.push((
                        value_pos,
                        format!(
                            "type mismatch: {function} takes {} as option {key:?}, not {}",
                            join_or(&names),
                            lit.name()
                        ),
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn literal_arguments_are_matched_against_every_form() {
        let create = s(&["options: Map"]);
        let msg = mismatch("token::create", &[Some(L::Int)], &[&create]);
        assert_eq!(
            msg.as_deref(),
            Some("type mismatch: token::create takes map as argument 1, not int")
        );
        assert_eq!(mismatch("token::create", &[None], &[&create]), None);
        assert_eq!(mismatch("token::create", &[Some(L::Map)], &[&create]), None);
        let by_id = s(&["id: String or Token"]);
        let any = s(&["x: any"]);
        assert_eq!(
            mismatch("token::get", &[Some(L::Int)], &[&by_id]).as_deref(),
            Some("type mismatch: token::get takes string or Token as argument 1, not int")
        );
        assert_eq!(mismatch("f", &[Some(L::Int)], &[&by_id, &any]), None);
        let two_a = s(&["a: int", "b: String"]);
        let two_b = s(&["a: String", "b: int"]);
        assert_eq!(
            mismatch("f", &[Some(L::Int), Some(L::Int)], &[&two_a, &two_b]).as_deref(),
            Some(
                "type mismatch: f(int, int) matches no form of it; it takes (int, string) or (string, int)"
            )
        );
    }
}
