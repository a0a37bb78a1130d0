//! The `clouddb_backup` schema. Every argument replaces the backup (the API has no update for
//! backups); the computed attributes never change once it exists, so they keep their state in
//! plans (the only in-place change is the `timeouts` block).

use tfplugin::schema::timeouts;
use tfplugin::schema::validators::string_length;
use tfplugin::schema::{Attribute, Schema};

use crate::resources::common::instance_attribute;
use crate::resources::instance::valid_name;

/// The longest description the API accepts, in characters.
pub const MAX_DESCRIPTION: usize = 256;

fn computed(a: Attribute, description: &str) -> Attribute {
    a.computed()
        .use_state_for_unknown()
        .description(description)
}

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "An on-demand backup of a CloudDB instance, taken when the resource is created. Backups belong \
             to the project and outlive their instance; destroying the resource deletes the backup.",
        )
        .attribute(computed(
            Attribute::string("id"),
            "The backup name (unique in the project); also the import ID.",
        ))
        .attribute(instance_attribute("backup").description(
            "Name of the instance to back up. Changing it replaces the backup (a new one is taken of the \
             other instance).",
        ))
        .attribute(
            Attribute::string("name")
                .optional()
                .computed()
                .requires_replace()
                .use_state_for_unknown()
                .validate_with("3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid backup name",
                            format!(
                                "{:?} is not a valid backup name: use 3 to 63 lowercase letters, digits and \
                                 hyphens, starting with a letter and not ending with a hyphen.",
                                s.chars().take(80).collect::<String>()
                            ),
                        );
                    }
                })
                .description(
                    "Backup name, unique in the project. When unset the API generates one (the instance \
                     name and a random suffix), which then stays in state. Changing it replaces the backup.",
                ),
        )
        .attribute(
            Attribute::string("description")
                .optional()
                .requires_replace()
                .validator(string_length(0, MAX_DESCRIPTION))
                .description("Free text, at most 256 characters. Changing it replaces the backup."),
        )
        .attribute(computed(Attribute::string("type"), "`ON_DEMAND` for backups this resource takes."))
        .attribute(computed(Attribute::string("state"), "Backup state reported by the API, e.g. `READY`."))
        .attribute(computed(Attribute::int64("size_bytes"), "Size in bytes."))
        .attribute(computed(Attribute::string("engine"), "Engine of the instance when the backup was taken."))
        .attribute(computed(
            Attribute::string("engine_version"),
            "Engine version of the instance when the backup was taken.",
        ))
        .attribute(computed(Attribute::string("created_at"), "Creation time (RFC 3339)."))
        .block(timeouts::block(&["create", "delete"]))
}
