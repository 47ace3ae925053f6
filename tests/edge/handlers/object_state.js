// An object-literal handler whose methods share state through `this`.
import { instrument } from './edgescope/workerd.js';

export default instrument({
  hits: 0,
  async fetch() {
    return new Response(`hits=${this.hits}`);
  },
  async scheduled() {
    this.hits++;
  },
});
