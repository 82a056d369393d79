// The connection indicator: connected / reconnecting / offline, with the age of the last update.
// `data-state` carries the client's state (connecting, connected, reconnecting, offline, error).
import { setText, ago } from '../dom.js';

const LABEL = {
  idle: 'starting',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  offline: 'offline',
  error: 'offline',
};

export class ConnectionIndicator {
  constructor(el, client) {
    this.el = el;
    this.text = el.querySelector('#conn-text');
    this.age = el.querySelector('#conn-age');
    this.client = client;
    client.on('state', (s) => this.show(s));
    // The age ticks once a second; the text only changes when the rounded age does.
    setInterval(() => this.tick(), 1000);
  }

  show(s) {
    this.el.dataset.state = s.state;
    this.el.dataset.transport = s.transport ?? '';
    const via = s.state === 'connected' && s.transport === 'long-poll' ? ' (long-poll)' : '';
    setText(this.text, `${LABEL[s.state] ?? s.state}${via}`);
    this.tick();
  }

  tick() {
    const age = this.client.lastUpdateAge();
    setText(this.age, age === null ? '' : `· updated ${ago(age)}`);
  }
}
