//! The public API keeps the promises of the Rust API guidelines that the compiler can check.

use clientele::{
    Change, Crm, Customer, CustomerId, Error, ManualClock, MemoryStore, Store, StoreError, Transition, ValidationError,
    lifecycle::{Funnel, Lifecycle, TransitionError},
};

fn send_sync<T: Send + Sync>() {}

#[test]
fn shared_types_are_send_and_sync() {
    send_sync::<MemoryStore>();
    send_sync::<Crm<MemoryStore, ManualClock>>();
    send_sync::<Crm<std::sync::Arc<dyn Store>>>();
    send_sync::<Customer>();
    send_sync::<Change>();
    send_sync::<Transition>();
    send_sync::<Lifecycle>();
    send_sync::<Funnel>();
    send_sync::<Error>();
    send_sync::<StoreError>();
    send_sync::<TransitionError>();
    send_sync::<ValidationError>();
    send_sync::<clientele::strategy::ContactPlan>();
    send_sync::<clientele::strategy::LevelAssignment>();
    send_sync::<clientele::strategy::LevelMatcher>();
    send_sync::<clientele::strategy::PlanError>();
    send_sync::<clientele::LiveStore<MemoryStore>>();
    send_sync::<Crm<clientele::LiveStore<Box<dyn Store>>, ManualClock>>();
    send_sync::<clientele::live::LiveEvent>();
    send_sync::<clientele::live::LiveError>();
}

#[test]
fn store_is_object_safe_and_usable_through_pointers() {
    let boxed: Box<dyn Store> = Box::new(MemoryStore::new());
    let crm = Crm::new(boxed);
    crm.insert(Customer::new(CustomerId::new(1), "Ada", chrono::DateTime::UNIX_EPOCH)).unwrap();
    assert_eq!(crm.store().count().unwrap(), 1);

    let shared = std::sync::Arc::new(MemoryStore::new());
    let crm = Crm::new(std::sync::Arc::clone(&shared));
    crm.insert(Customer::new(CustomerId::new(2), "Bo", chrono::DateTime::UNIX_EPOCH)).unwrap();
    assert_eq!(shared.count().unwrap(), 1, "the Arc'd store is the same store");
}

#[test]
fn errors_are_std_errors_with_sources() {
    fn std_error<E: std::error::Error + 'static>(_: &E) {}
    let invalid = StoreError::InvalidData { id: CustomerId::new(1), source: ValidationError::new("a", "b") };
    std_error(&invalid);
    assert!(std::error::Error::source(&invalid).is_some(), "InvalidData keeps its cause");
    let top: Error = invalid.into();
    assert_eq!(top.to_string(), "invalid data for customer #1: invalid a: b");
}
