//! Linkage chaining: outbox->inbox links, inbox and outbox passthroughs, chains built in any
//! order collapsing onto the final inbox, and unlinking or relinking mid-chain.

mod common;

use axon_core::{LinkKind, StandardBoxes, link, unlink};

use common::standard;

fn drain(boxes: &StandardBoxes<u32, u32>) -> Vec<u32> {
    boxes.inbox.drain().collect()
}

/// An outbox linked to an inbox is a Normal link (Axon passthrough 0) that delivers there;
/// the linkage names both ends in Axon's format.
#[test]
fn an_outbox_linked_to_an_inbox_delivers_into_it() {
    let (a, sa) = standard("Src");
    let (b, sb) = standard("Dst");
    let l = link((&a, "outbox"), (&b, "inbox")).unwrap();

    assert_eq!(l.kind(), LinkKind::Normal);
    assert_eq!(l.kind().passthrough(), 0);
    assert_eq!(l.source(), Some((a.clone(), "outbox".to_string())));
    assert_eq!(l.sink(), Some((b.clone(), "inbox".to_string())));
    assert_eq!(l.to_string(), format!("Link( source:[{},outbox], sink:[{},inbox] )", a.name(), b.name()));

    sa.outbox.try_send(1).unwrap();
    sa.outbox.try_send(2).unwrap();
    assert_eq!(drain(&sb), [1, 2]);
}

/// A child's outbox surfaced through its parent's outbox (outbox passthrough) delivers to
/// what the parent's outbox is linked to, when the passthrough is made first.
#[test]
fn an_outbox_passthrough_made_before_the_parents_link_delivers_to_the_final_inbox() {
    let (child, sc) = standard("Child");
    let (parent, sp) = standard("Parent");
    let (dst, sd) = standard("Dst");

    let pass = link((&child, "outbox"), (&parent, "outbox")).unwrap();
    assert_eq!(pass.kind(), LinkKind::OutboxPassthrough);
    assert_eq!(pass.kind().passthrough(), 2);
    // Sent while the parent's outbox is still unlinked: kept there, not lost.
    sc.outbox.try_send(1).unwrap();
    assert_eq!(sp.outbox.buffered(), 1);

    link((&parent, "outbox"), (&dst, "inbox")).unwrap();
    sc.outbox.try_send(2).unwrap();
    assert_eq!(sc.outbox.buffered(), 0);
    assert_eq!(sp.outbox.buffered(), 0);
    assert_eq!(drain(&sd), [1, 2]);
}

/// The same outbox passthrough chain delivers to the final inbox when the parent's link is
/// made first.
#[test]
fn an_outbox_passthrough_made_after_the_parents_link_delivers_to_the_final_inbox() {
    let (child, sc) = standard("Child");
    let (parent, sp) = standard("Parent");
    let (dst, sd) = standard("Dst");

    link((&parent, "outbox"), (&dst, "inbox")).unwrap();
    sc.outbox.try_send(1).unwrap();
    assert_eq!(sc.outbox.buffered(), 1);

    link((&child, "outbox"), (&parent, "outbox")).unwrap();
    sc.outbox.try_send(2).unwrap();
    assert_eq!(sc.outbox.buffered(), 0);
    assert_eq!(sp.outbox.buffered(), 0);
    assert_eq!(drain(&sd), [1, 2]);
}

/// A parent's inbox forwarded to a child's inbox (inbox passthrough) made before anything
/// feeds the parent delivers to the child.
#[test]
fn an_inbox_passthrough_made_before_the_feeding_link_delivers_to_the_child() {
    let (src, ss) = standard("Src");
    let (parent, sp) = standard("Parent");
    let (child, sc) = standard("Child");

    let pass = link((&parent, "inbox"), (&child, "inbox")).unwrap();
    assert_eq!(pass.kind(), LinkKind::InboxPassthrough);
    assert_eq!(pass.kind().passthrough(), 1);
    link((&src, "outbox"), (&parent, "inbox")).unwrap();

    ss.outbox.try_send(1).unwrap();
    ss.outbox.try_send(2).unwrap();
    assert_eq!(sp.inbox.len(), 0);
    assert_eq!(drain(&sc), [1, 2]);
}

/// An inbox passthrough made after the parent is fed moves what already waited in the
/// parent's inbox on to the child, in order, ahead of later messages.
#[test]
fn an_inbox_passthrough_made_after_the_feeding_link_delivers_to_the_child() {
    let (src, ss) = standard("Src");
    let (parent, sp) = standard("Parent");
    let (child, sc) = standard("Child");

    link((&src, "outbox"), (&parent, "inbox")).unwrap();
    ss.outbox.try_send(1).unwrap();
    ss.outbox.try_send(2).unwrap();
    assert_eq!(sp.inbox.len(), 2);

    link((&parent, "inbox"), (&child, "inbox")).unwrap();
    assert_eq!(sp.inbox.len(), 0);
    ss.outbox.try_send(3).unwrap();
    assert_eq!(sp.inbox.len(), 0);
    assert_eq!(drain(&sc), [1, 2, 3]);
}

/// A chain outbox -> outbox -> inbox -> inbox collapses: a send on the first box lands in the
/// last inbox directly and the boxes in between hold nothing, whatever order the links were
/// made in.
#[test]
fn a_send_along_a_four_box_chain_lands_in_the_last_inbox_directly() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]] {
        let (a, sa) = standard("A");
        let (p, sp) = standard("P");
        let (q, sq) = standard("Q");
        let (c, sc) = standard("C");
        let hops = [((&a, "outbox"), (&p, "outbox")), ((&p, "outbox"), (&q, "inbox")), ((&q, "inbox"), (&c, "inbox"))];
        for i in order {
            let (from, to) = hops[i];
            link(from, to).unwrap();
        }
        for n in 1..=3 {
            sa.outbox.try_send(n).unwrap();
        }
        assert_eq!(sa.outbox.buffered(), 0, "order {order:?}");
        assert_eq!(sp.outbox.buffered(), 0, "order {order:?}");
        assert_eq!(sq.inbox.len(), 0, "order {order:?}");
        assert_eq!(drain(&sc), [1, 2, 3], "order {order:?}");
    }
}

/// Cutting the last link of a chain leaves already-delivered messages where they are; later
/// sends stop at the cut (the now-final inbox), and relinking moves them on and resumes.
#[test]
fn unlinking_the_end_of_a_chain_stops_later_sends_at_the_cut_and_relinking_resumes() {
    let (a, sa) = standard("A");
    let (p, sp) = standard("P");
    let (q, sq) = standard("Q");
    let (c, sc) = standard("C");
    link((&a, "outbox"), (&p, "outbox")).unwrap();
    link((&p, "outbox"), (&q, "inbox")).unwrap();
    let last = link((&q, "inbox"), (&c, "inbox")).unwrap();

    sa.outbox.try_send(1).unwrap();
    sa.outbox.try_send(2).unwrap();
    unlink(&last);

    // Delivered messages stay at the old destination; nothing migrates back.
    assert_eq!(sc.inbox.len(), 2);
    assert_eq!(sq.inbox.len(), 0);

    sa.outbox.try_send(3).unwrap();
    sa.outbox.try_send(4).unwrap();
    assert_eq!(sc.inbox.len(), 2);
    assert_eq!(sq.inbox.len(), 2);
    assert_eq!(sp.outbox.buffered(), 0);

    link((&q, "inbox"), (&c, "inbox")).unwrap();
    assert_eq!(sq.inbox.len(), 0);
    sa.outbox.try_send(5).unwrap();
    assert_eq!(drain(&sc), [1, 2, 3, 4, 5]);
}

/// Cutting the first link of a chain makes later sends wait in the sending outbox; relinking
/// sends them on in order.
#[test]
fn unlinking_the_start_of_a_chain_keeps_later_sends_in_the_sending_outbox() {
    let (a, sa) = standard("A");
    let (p, sp) = standard("P");
    let (c, sc) = standard("C");
    let first = link((&a, "outbox"), (&p, "outbox")).unwrap();
    link((&p, "outbox"), (&c, "inbox")).unwrap();

    sa.outbox.try_send(1).unwrap();
    unlink(&first);
    assert!(!sa.outbox.is_linked());
    assert!(sp.outbox.is_linked());

    sa.outbox.try_send(2).unwrap();
    sa.outbox.try_send(3).unwrap();
    assert_eq!(sa.outbox.buffered(), 2);
    assert_eq!(sp.outbox.buffered(), 0);
    assert_eq!(sc.inbox.len(), 1);

    link((&a, "outbox"), (&p, "outbox")).unwrap();
    assert_eq!(sa.outbox.buffered(), 0);
    assert_eq!(drain(&sc), [1, 2, 3]);
}

/// Unlinking a linkage that is already gone does nothing, even after its source box was
/// linked somewhere else.
#[test]
fn unlinking_a_stale_linkage_is_a_no_op() {
    let (a, sa) = standard("A");
    let (b, sb) = standard("B");
    let (c, sc) = standard("C");

    let old = link((&a, "outbox"), (&b, "inbox")).unwrap();
    unlink(&old);
    unlink(&old);
    assert!(!sa.outbox.is_linked());

    link((&a, "outbox"), (&c, "inbox")).unwrap();
    unlink(&old);
    assert!(sa.outbox.is_linked());
    sa.outbox.try_send(1).unwrap();
    assert_eq!(sb.inbox.len(), 0);
    assert_eq!(drain(&sc), [1]);
}

/// A stale linkage handle does not remove a newer link that happens to join the same two
/// boxes: each linkage removes only itself.
#[test]
fn unlinking_a_stale_linkage_leaves_a_newer_link_between_the_same_boxes() {
    let (a, sa) = standard("A");
    let (b, sb) = standard("B");

    let old = link((&a, "outbox"), (&b, "inbox")).unwrap();
    unlink(&old);
    let new = link((&a, "outbox"), (&b, "inbox")).unwrap();
    assert_ne!(old, new);

    unlink(&old);
    assert!(sa.outbox.is_linked());
    sa.outbox.try_send(1).unwrap();
    assert_eq!(sa.outbox.buffered(), 0);
    assert_eq!(drain(&sb), [1]);

    unlink(&new);
    assert!(!sa.outbox.is_linked());
}

/// `Component::unlink_box` removes a box's outgoing link whoever made it: later sends stop
/// at the box, what was delivered stays, and the maker's Linkage becomes a no-op.
#[test]
fn unlink_box_removes_a_boxs_outgoing_link_whoever_made_it() {
    let (a, sa) = common::standard("A");
    let (b, sb) = common::standard("B");
    let l = link((&a, "outbox"), (&b, "inbox")).unwrap();
    sa.outbox.try_send(1).unwrap();
    assert_eq!(a.unlink_box("outbox"), Ok(true));
    assert_eq!(a.unlink_box("outbox"), Ok(false), "nothing left to unlink");
    sa.outbox.try_send(2).unwrap();
    assert_eq!(sb.inbox.try_recv(), Some(1));
    assert_eq!(sb.inbox.try_recv(), None);
    assert_eq!(sa.outbox.buffered(), 1);
    unlink(&l);
    assert!(a.unlink_box("nope").is_err());
}
