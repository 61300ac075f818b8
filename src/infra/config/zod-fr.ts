import { z } from 'zod';

// Every message zod produces is shown to a person (an operator, an administrator): in French.
z.config(z.locales.fr());

export { z };
