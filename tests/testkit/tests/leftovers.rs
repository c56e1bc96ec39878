//! Run last, after every other test: nothing any test made may remain.
//! Every test names its host resources with `testkit::TEST_PREFIX`.

#[test]
#[ignore = "run by scripts/test.sh after all other tests"]
fn no_mount_cgroup_link_or_process_of_ours_remains() {
    if !testkit::require_root("no_mount_cgroup_link_or_process_of_ours_remains") {
        return;
    }
    testkit::assert_no_leftovers(testkit::TEST_PREFIX);
}
