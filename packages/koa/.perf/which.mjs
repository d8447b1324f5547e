import { bearerAuth } from '../dist/index.js';
console.log(import.meta.resolve('../dist/index.js'), bearerAuth.toString().length);
import * as m from '../dist/auth/bearer-header.js'; console.log('parseDetailed' in m ? 'NEW koa' : 'OLD koa');
