//! Consistency checks on what a provider returns, reported per attribute.
//!
//! Terraform runs the same checks and, on failure, prints a generic "Provider produced
//! inconsistent result after apply" that blames no line of provider code. Running them
//! here first turns the mistake into a diagnostic naming the attribute and the rule.

use crate::diag::Diagnostics;
use crate::schema::{AttrType, Attribute, NestedBlock, Schema};
use crate::value::join::{Cursor, by_name};
use crate::value::{AttributePath, PathRef, PathStep, Type, Value};

/// Paths of sensitive and write-only attributes (nested attributes included; blocks walked).
fn flagged(
    attrs: &[Attribute],
    blocks: &[NestedBlock],
    path: &PathRef<'_>,
    sensitive: &mut Vec<AttributePath>,
    write_only: &mut Vec<AttributePath>,
) {
    for a in attrs {
        let p = path.attr(&a.name);
        if a.sensitive {
            sensitive.push(p.to_path());
        }
        if a.write_only {
            write_only.push(p.to_path());
        }
        if let AttrType::Nested(n) = &a.kind {
            flagged(&n.attributes, &[], &p, sensitive, write_only);
        }
    }
    for nb in blocks {
        flagged(
            &nb.block.attributes,
            &nb.block.blocks,
            &path.attr(&nb.type_name),
            sensitive,
            write_only,
        );
    }
}

/// Path with element steps removed, for matching against schema attribute paths.
fn schema_path(p: &AttributePath) -> AttributePath {
    AttributePath(
        p.0.iter()
            .filter(|s| matches!(s, PathStep::Attribute(_)))
            .cloned()
            .collect(),
    )
}

struct Checker {
    sensitive: Vec<AttributePath>,
    write_only: Vec<AttributePath>,
    diags: Diagnostics,
    what: &'static str,
}

impl Checker {
    fn new(schema: &Schema, what: &'static str) -> Self {
        let (mut s, mut w) = (Vec::new(), Vec::new());
        let b = &schema.block;
        flagged(&b.attributes, &b.blocks, &PathRef::Root, &mut s, &mut w);
        Checker {
            sensitive: s,
            write_only: w,
            diags: Diagnostics::new(),
            what,
        }
    }

    fn is_sensitive(&self, p: &AttributePath) -> bool {
        let sp = schema_path(p);
        self.sensitive.iter().any(|s| sp.0.starts_with(&s.0))
    }

    fn show(&self, p: &AttributePath, v: &Value) -> String {
        if self.is_sensitive(p) {
            return "(sensitive value)".into();
        }
        match v {
            Value::Null => "null".into(),
            Value::Unknown(_) => "(known after apply)".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => format!("{s:?}"),
            other => format!("a {}", other.kind()),
        }
    }

    fn err(&mut self, p: &AttributePath, summary: &str, detail: String) {
        self.diags.attribute_error(p.clone(), summary, detail);
    }

    /// Unknowns left anywhere → one error per path.
    fn no_unknowns(&mut self, v: &Value, p: &PathRef<'_>) {
        match v {
            Value::Unknown(_) => {
                let w = self.what;
                let p = p.to_path();
                self.err(
                    &p,
                    "Provider returned an unknown value",
                    format!("The {w} result still has an unknown value for {p}. Every attribute must be known after {w}; this is a bug in the provider."),
                );
            }
            Value::List(items) | Value::Tuple(items) => {
                for (i, it) in items.iter().enumerate() {
                    self.no_unknowns(it, &p.index(i));
                }
            }
            Value::Set(items) => items.iter().for_each(|it| self.no_unknowns(it, p)),
            Value::Map(m) => m.iter().for_each(|(k, it)| self.no_unknowns(it, &p.key(k))),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, it)| self.no_unknowns(it, &p.attr(k))),
            _ => {}
        }
    }

    fn write_only_null(&mut self, v: &Value) {
        let paths = std::mem::take(&mut self.write_only);
        for p in &paths {
            if v.at_path(p).is_some_and(|x| !x.is_null()) {
                self.err(p, "Write-only attribute returned", format!("{p} is write-only: the provider must return null for it (it is never stored in state)."));
            }
        }
        self.write_only = paths;
    }

    /// Planned vs actual (`AssertObjectCompatible`). The owned path is built only on the way to
    /// a diagnostic.
    fn compatible(&mut self, planned: &Value, actual: &Value, pr: &PathRef<'_>) {
        let mismatch = |c: &mut Self, why: String| {
            let w = c.what;
            let p = pr.to_path();
            let was = c.show(&p, planned);
            c.err(
                &p,
                "Provider produced inconsistent result after apply",
                format!("When applying changes, the provider's {w} returned {why} for {p}; the plan said {was}. Known planned values must be returned unchanged (use a computed attribute, or a plan modifier, for values the API changes). This is a bug in the provider."),
            );
        };
        match (planned, actual) {
            (Value::Unknown(r), a) => {
                if !r.admits(a) {
                    let why = format!(
                        "{} which breaks the plan's promise about the unknown value",
                        self.show(&pr.to_path(), a)
                    );
                    mismatch(self, why);
                }
            }
            (Value::Null, Value::Null) => {}
            (Value::Null, a) | (a, Value::Null) if !a.is_null() => {
                let why = self.show(&pr.to_path(), actual);
                mismatch(self, why);
            }
            (Value::Object(pm), Value::Object(am)) => {
                for (k, pv) in pm {
                    self.compatible(pv, am.get(k).unwrap_or(&Value::Null), &pr.attr(k));
                }
            }
            (Value::Map(pm), Value::Map(am)) => {
                if pm.len() != am.len() || pm.keys().any(|k| !am.contains_key(k)) {
                    mismatch(
                        self,
                        format!("a map with keys {:?}", am.keys().collect::<Vec<_>>()),
                    );
                    return;
                }
                for (k, pv) in pm {
                    self.compatible(pv, &am[k], &pr.key(k));
                }
            }
            (Value::List(pl), Value::List(al)) | (Value::Tuple(pl), Value::Tuple(al)) => {
                if pl.len() != al.len() {
                    mismatch(
                        self,
                        format!("{} elements instead of {}", al.len(), pl.len()),
                    );
                    return;
                }
                for (i, (pv, av)) in pl.iter().zip(al).enumerate() {
                    self.compatible(pv, av, &pr.index(i));
                }
            }
            (Value::Set(ps), Value::Set(as_)) => {
                if planned.is_wholly_known() {
                    if planned != actual {
                        mismatch(self, "a different set".into());
                    }
                } else if as_.len() > ps.len() {
                    mismatch(
                        self,
                        format!("a set of {} elements (more than planned)", as_.len()),
                    );
                }
            }
            (pv, av) => {
                if pv != av {
                    let why = self.show(&pr.to_path(), av);
                    mismatch(self, why);
                }
            }
        }
    }
}

/// Checks an apply (create/update) result against the plan, as Terraform's
/// `AssertObjectCompatible` does after apply. Returns error diagnostics naming each offending
/// attribute (sensitive values shown as `(sensitive value)`); empty when consistent.
///
/// Errors: a null `new_state` (create/update must return the object or an error), a value that
/// does not conform to the schema type (then nothing else is checked), any unknown left, a
/// non-null write-only attribute. Only if none of those: every known planned value must be
/// returned unchanged, null stays null and non-null stays non-null, planned unknowns must keep
/// their refinements, lists and maps keep their length/keys, a wholly known planned set must be
/// equal and a partly unknown one may not grow.
pub fn check_apply_result(schema: &Schema, planned: &Value, new_state: &Value) -> Diagnostics {
    apply_result(schema, &schema.implied_type(), planned, new_state)
}

/// [`check_apply_result`] with the schema's implied type `ty` already computed.
pub(crate) fn apply_result(
    schema: &Schema,
    ty: &Type,
    planned: &Value,
    new_state: &Value,
) -> Diagnostics {
    let mut c = Checker::new(schema, "apply");
    let root = AttributePath::root();
    if new_state.is_null() {
        c.err(&root, "Provider returned no object after apply", "The provider's create/update returned a null state without an error. Return the object (or an error diagnostic).".into());
        return c.diags;
    }
    if let Err((p, m)) = new_state.conforms(ty) {
        c.err(
            &p,
            "Provider returned an invalid object",
            format!("The apply result does not match the schema at {p}: {m}."),
        );
        return c.diags;
    }
    c.no_unknowns(new_state, &PathRef::Root);
    c.write_only_null(new_state);
    if !c.diags.has_errors() {
        c.compatible(planned, new_state, &PathRef::Root);
    }
    c.diags
}

/// Checks a refresh (`ReadResource`) or data-source result: it must conform to the schema
/// type (if not, nothing else is checked), be wholly known and have write-only attributes
/// null. A null `new_state` is not an error: for `ReadResource` it means the remote object is
/// gone and Terraform drops it from state (and plans to create it again). Values may differ
/// from prior state freely (that is drift). Returns error diagnostics naming the attributes.
pub fn check_read_result(schema: &Schema, new_state: &Value) -> Diagnostics {
    read_result(schema, &schema.implied_type(), new_state)
}

/// [`check_read_result`] with the schema's implied type `ty` already computed.
pub(crate) fn read_result(schema: &Schema, ty: &Type, new_state: &Value) -> Diagnostics {
    let mut c = Checker::new(schema, "read");
    if new_state.is_null() {
        return c.diags;
    }
    if let Err((p, m)) = new_state.conforms(ty) {
        c.err(
            &p,
            "Provider returned an invalid object",
            format!("The read result does not match the schema at {p}: {m}."),
        );
        return c.diags;
    }
    c.no_unknowns(new_state, &PathRef::Root);
    c.write_only_null(new_state);
    c.diags
}

/// Checks a plan against the config (Terraform's `AssertPlanValid`): a configured value may
/// not be changed (planning the prior value instead is allowed when both are non-null, as
/// Terraform allows it), a non-computed attribute may not be planned non-null when unset, and
/// write-only attributes must be planned null. Covers top-level attributes and single nested
/// objects; blocks and list/set/map nested attributes are left to Terraform. A null `config`
/// or `planned` (destroy) passes. Returns error diagnostics naming the attributes.
pub fn check_plan(schema: &Schema, prior: &Value, config: &Value, planned: &Value) -> Diagnostics {
    let mut c = Checker::new(schema, "plan");
    if config.is_null() || planned.is_null() {
        return c.diags;
    }
    plan_block(
        &mut c,
        &schema.block.attributes,
        prior,
        config,
        planned,
        &PathRef::Root,
    );
    c.diags
}

fn plan_block(
    c: &mut Checker,
    attrs: &[Attribute],
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &PathRef<'_>,
) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    // Attributes in name order, so the three objects are read in one pass each.
    let (mut prior_at, mut config_at, mut planned_at) = (
        Cursor::new(prior),
        Cursor::new(config),
        Cursor::new(planned),
    );
    for a in by_name(attrs, |a| &a.name) {
        let here = path.attr(&a.name);
        let (pr, cf, pl) = (
            prior_at.get(&a.name),
            config_at.get(&a.name),
            planned_at.get(&a.name),
        );
        if a.write_only {
            if !pl.is_null() {
                let p = here.to_path();
                c.err(
                    &p,
                    "Provider produced invalid plan",
                    format!("{p} is write-only and must be planned as null."),
                );
            }
            continue;
        }
        if pl == cf || (!pr.is_null() && !cf.is_null() && pl == pr) {
            continue;
        }
        if a.computed && !a.optional {
            continue;
        }
        if cf.is_null() && a.computed {
            continue;
        }
        if let (AttrType::Nested(n), Value::Object(_)) = (&a.kind, pl) {
            plan_block(c, &n.attributes, pr, cf, pl, &here);
            continue;
        }
        let p = here.to_path();
        let detail = if cf.is_null() {
            format!(
                "The plan sets {p} to {} but it is not computed and not configured.",
                c.show(&p, pl)
            )
        } else {
            format!(
                "The plan sets {p} to {} but the configuration says {}. A provider may not change a configured value.",
                c.show(&p, pl),
                c.show(&p, cf)
            )
        };
        c.err(&p, "Provider produced invalid plan", detail);
    }
}
