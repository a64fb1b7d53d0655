"""The lab's views, one module each. A view module holds, for its tab:

* ``ID``, ``LABEL``, ``PATH``: the tab's id, its title and its URL;
* ``SLIDERS``: its sliders' ranges (:func:`regulab.app.widgets.clamp` keeps what the browser
  sends inside them);
* ``layout(state, session_id)``: the tab's body (Dash components);
* its **pure result** function(s): inputs -> a plain dict of numbers and arrays, computed by the
  library (no Dash; the unit tests check them against closed forms and exact optima);
* its **update** function(s): result -> read-out texts and figures (:mod:`regulab.app.figures`),
  what the callback returns (also Dash-free, so tests call them without a browser);
* ``register(app, state)``: wires its callbacks to the app.

:mod:`regulab.app.server` lists the views in tab order; adding a view is one entry there.
"""
