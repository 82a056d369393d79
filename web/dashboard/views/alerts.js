// Alerts and notifications (docs/protocol.md, "Alerts and notifications"): unacknowledged alerts
// and unread notifications first, newest first; acknowledge (`ack`) and mark read (`mark_read`)
// from the list. Keyed by id: the gateway re-sends unchanged topics and re-publishes an alert
// when its state changes.
import { h, setText, clock } from '../dom.js';
import { invalidate } from '../schedule.js';

const MAX_ITEMS = 200; // per list; the oldest handled items go first

const newestFirst = (a, b) => String(b.created_at).localeCompare(String(a.created_at));

/** Keeps at most MAX_ITEMS, dropping the oldest items for which `done` holds first. */
function bound(map, done) {
  if (map.size <= MAX_ITEMS) return;
  const victims = [...map.values()].sort((a, b) => Number(done(b)) - Number(done(a)) || -newestFirst(a, b));
  for (const v of victims.slice(0, map.size - MAX_ITEMS)) map.delete(v.id);
}

export class AlertsView {
  /**
   * @param {{alerts: HTMLElement, notifications: HTMLElement, badge: HTMLElement}} els
   * @param {import('../../edgewatch-client.js').EdgewatchClient} client
   * @param {(text: string) => void} toast
   */
  constructor(els, client, toast) {
    this.els = els;
    this.client = client;
    this.toast = toast;
    this.alerts = new Map();
    this.notes = new Map();
    this.pending = new Map(); // op id -> {kind, key}
    client.subscribe('alerts', (ev) => this.putAlert(ev.data));
    client.subscribe('notifications/#', (ev) => this.putNote(ev.data));
    client.on('message', (m) => this.onMessage(m));
    client.on('error', (e) => this.onError(e));
  }

  putAlert(a) {
    if (!a || typeof a.id !== 'string') return;
    const prev = this.alerts.get(a.id);
    // A stale copy (a snapshot or refresh of the active alert) never un-acknowledges it.
    if (prev?.state === 'acked' && a.state !== 'acked') return;
    this.alerts.set(a.id, { ...a, acking: false });
    bound(this.alerts, (x) => x.state === 'acked');
    invalidate(this);
  }

  putNote(n) {
    if (!n || typeof n.id !== 'string') return;
    const prev = this.notes.get(n.id);
    this.notes.set(n.id, { ...n, read: Boolean(n.read || prev?.read) });
    bound(this.notes, (x) => x.read);
    invalidate(this);
  }

  onMessage(m) {
    if (m.type === 'unread' && Array.isArray(m.items)) {
      for (const item of m.items) (m.topic === 'alerts' ? this.putAlert(item) : this.putNote(item));
    } else if (m.type === 'acked') {
      this.pending.delete(m.id);
      const a = this.alerts.get(m.alert);
      // The stored `alerts` event with the details follows; show the outcome now.
      if (a && a.state !== 'acked') this.alerts.set(a.id, { ...a, state: 'acked', acking: false });
      invalidate(this);
    } else if (m.type === 'marked_read') {
      this.pending.delete(m.id);
      for (const id of m.ids ?? []) {
        const n = this.notes.get(id);
        if (n) n.read = true;
      }
      invalidate(this);
    }
  }

  onError(e) {
    const op = e.id !== null && e.id !== undefined ? this.pending.get(e.id) : null;
    if (!op) return;
    this.pending.delete(e.id);
    if (op.kind === 'ack') {
      const a = this.alerts.get(op.key);
      if (a) {
        a.acking = false;
        if (e.code === 'already_acked') a.state = 'acked';
      }
    }
    this.toast(`${op.kind === 'ack' ? 'Acknowledge' : 'Mark read'} failed: ${e.code}${e.message ? ` (${e.message})` : ''}`);
    invalidate(this);
  }

  ack(id) {
    const opId = this.client.send({ op: 'ack', alert: id });
    if (opId === null) {
      this.toast('Not connected: try again when the indicator shows connected');
      return;
    }
    this.pending.set(opId, { kind: 'ack', key: id });
    const a = this.alerts.get(id);
    if (a) a.acking = true;
    invalidate(this);
  }

  markRead(id) {
    const opId = this.client.send({ op: 'mark_read', ids: [id] });
    if (opId === null) {
      this.toast('Not connected: try again when the indicator shows connected');
      return;
    }
    this.pending.set(opId, { kind: 'mark_read', key: id });
  }

  render() {
    const alerts = [...this.alerts.values()].sort(
      (a, b) => Number(a.state === 'acked') - Number(b.state === 'acked') || newestFirst(a, b),
    );
    this.els.alerts.replaceChildren(
      ...(alerts.length ? alerts.map((a) => this.alertItem(a)) : [h('li', { class: 'empty' }, 'No alerts.')]),
    );
    const notes = [...this.notes.values()].sort((a, b) => Number(a.read) - Number(b.read) || newestFirst(a, b));
    this.els.notifications.replaceChildren(
      ...(notes.length ? notes.map((n) => this.noteItem(n)) : [h('li', { class: 'empty' }, 'No notifications.')]),
    );
    const unread = alerts.filter((a) => a.state !== 'acked').length + notes.filter((n) => !n.read).length;
    this.els.badge.hidden = unread === 0;
    setText(this.els.badge, unread);
  }

  alertItem(a) {
    const acked = a.state === 'acked';
    const by = acked ? `acknowledged by ${a.acked_by ?? '?'}${a.ack_via ? ` (${a.ack_via})` : ''}` : '';
    return h(
      'li',
      { class: `item sev-${a.severity ?? 'info'}`, 'data-alert-id': a.id, 'data-state': a.state ?? '' },
      h('div', {}, h('b', {}, a.message ?? a.rule ?? a.id), h('small', {}, `${a.severity ?? ''} · ${a.rule ?? ''} · ${clock(a.created_at)}`)),
      acked
        ? h('small', { class: 'acked' }, by)
        : h('button', { class: 'ack', disabled: a.acking, onclick: () => this.ack(a.id) }, a.acking ? 'Acknowledging…' : 'Acknowledge'),
    );
  }

  noteItem(n) {
    return h(
      'li',
      { class: `item note-${n.type ?? 'info'}${n.read ? ' read' : ''}`, 'data-notification-id': n.id, 'data-read': String(n.read) },
      h('div', {}, h('b', {}, n.title ?? n.type ?? 'Notification'), h('small', {}, `${n.message ?? ''} · ${clock(n.created_at)}`)),
      n.read ? null : h('button', { class: 'ack', onclick: () => this.markRead(n.id) }, 'Mark read'),
    );
  }
}
