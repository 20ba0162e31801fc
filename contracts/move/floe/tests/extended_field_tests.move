#[test_only]
module floe::extended_field_tests;

use floe::extended_field;

#[test]
fun wraps_borrows_swaps_and_destroys() {
    let mut ctx = tx_context::dummy();
    let mut field = extended_field::new(vector[1u64, 2], &mut ctx);
    assert!(field.borrow() == &vector[1, 2]);
    field.borrow_mut().push_back(3);
    assert!(field.borrow().length() == 3);
    let old = field.swap(vector[9]);
    assert!(old == vector[1, 2, 3]);
    assert!(field.destroy() == vector[9]);
}
