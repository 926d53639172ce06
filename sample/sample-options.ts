/** What the chat app needs to know; `startSample()` fills it in. */
export interface ChatAppOptions {
  /** The hub the chat uses. */
  readonly hub: string;
  /** The embedded emulator's or the Azure resource's. */
  readonly connectionString: string;
  /** Where `index.html`, `chat.css` and the bundled `chat.js` are (`npm run build:sample`). */
  readonly publicDir: string;
  /** Signs the tabs' session tokens; absent: a random secret per process. */
  readonly sessionSecret?: string;
  /** The emulator's live view, linked from the page; absent on Azure. */
  readonly liveViewUrl?: string;
}

export const CHAT_APP_OPTIONS = Symbol('CHAT_APP_OPTIONS');
