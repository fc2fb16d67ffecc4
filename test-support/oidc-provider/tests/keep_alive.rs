//! The fixture closes keep-alive connections that stay idle for its
//! keep-alive timeout (Node's default, 5 s). A request that goes out on a
//! pooled connection at the moment the fixture closes it fails with "error
//! sending request" — tests that sleep between two calls to the helper (the
//! expiry race test sleeps about 5 s) hit that now and then. So the helper's
//! client must never reuse a connection that has been idle for anywhere near
//! the fixture's timeout.

use std::time::Duration;

use oidc_test_provider::OidcProvider;

#[test]
fn the_helper_does_not_reuse_a_connection_the_fixture_is_about_to_close() {
    let keep_alive = Duration::from_secs(2);
    let provider = OidcProvider::builder()
        .keep_alive_timeout(keep_alive)
        .start()
        .unwrap();
    let before = provider.stats().unwrap().connections;
    assert!(before >= 1);
    // Idle for 3/4 of the timeout: the fixture still holds the connection,
    // but a little more delay would have the request cross its close.
    std::thread::sleep(keep_alive * 3 / 4);
    let after = provider.stats().unwrap().connections;
    assert_eq!(
        after,
        before + 1,
        "the request after a pause of 3/4 of the fixture's keep-alive timeout went out on a new connection"
    );
}
