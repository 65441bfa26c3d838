"""Wine cultivar from 13 measurements of its chemistry: a scikit-learn pipeline, deployed in one
call from the fitted object. With a server up: `FEATHER_TOKEN=... python deploy.py`."""

from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import feather as ftr

wine = load_wine(as_frame=True)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
model.fit(wine.data, [f"cultivar {t + 1}" for t in wine.target])
answer = ftr.deploy(model, name="wine", sample=wine.data[:5], title="Wine", description=__doc__)
print(answer["engine"]["kind"], "-", answer["engine"]["reason"])
