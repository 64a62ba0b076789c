//! The audit trail's names: every kind of record has one, every call named
//! is a real call, and the writes people make most are named.

use edufed_domain::changes::EntityKind;
use edufed_i18n::ru;
use prost_reflect::DescriptorPool;

#[test]
fn every_kind_of_record_has_a_name() {
    for kind in EntityKind::ALL {
        if matches!(kind, EntityKind::ActivitySeats | EntityKind::ResourceBusy) {
            continue; // Derived from another write: never in the trail.
        }
        assert_ne!(ru().audit_record(kind.as_str()), kind.as_str(), "{kind:?}");
    }
    for private in [
        "growth_record",
        "growth_consent",
        "teacher_figures",
        "enrolment",
    ] {
        assert_ne!(ru().audit_record(private), private);
    }
}

#[test]
fn every_call_named_is_a_call_of_the_api() {
    let pool = DescriptorPool::decode(edufed_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut named = 0;
    for service in pool.services() {
        if service.package_name() != "edufed.v1" {
            continue;
        }
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            if ru().audit_call(&path) != format!("{}/{}", service.name(), method.name()) {
                named += 1;
            }
        }
    }
    let source = include_str!("../locales/ru/audit.ftl");
    let keys = source
        .lines()
        .filter(|l| l.starts_with("audit-call-"))
        .count();
    assert_eq!(named, keys, "a name for a call the API does not have");
    assert_eq!(
        ru().audit_call("/edufed.v1.Booking/CancelBooking"),
        "Отмена бронирования"
    );
    assert_eq!(
        ru().audit_call("work:agreement lifecycle"),
        "Работа узла: сроки соглашений"
    );
    assert_eq!(ru().audit_call("work:other"), "Работа узла: other");
    assert_eq!(ru().audit_call("/edufed.v1.Nothing/Else"), "Nothing/Else");
}
